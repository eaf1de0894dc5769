// Shared helpers of every view: the API client, the time range, formatting,
// tables and the page container. Data goes in with textContent, never as HTML.

export const state = { token: localStorage.getItem('tracelake-token') || '', end: null };

// ---------- helpers ----------

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'style') node.style.cssText = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function showError(message) {
  const box = document.getElementById('error');
  box.textContent = message;
  box.hidden = false;
  setTimeout(() => { box.hidden = true; }, 6000);
}

export async function api(path, params) {
  const url = new URL('/api/tracelake/' + path, location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (Array.isArray(value)) value.forEach((v) => url.searchParams.append(key, v));
    else if (value !== '' && value !== null && value !== undefined) url.searchParams.set(key, value);
  }
  const headers = state.token ? { Authorization: 'Bearer ' + state.token } : {};
  const response = await fetch(url, { headers });
  if (response.status === 401) {
    document.getElementById('token-bar').hidden = false;
    throw new Error('this server needs a token');
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// The time range every page queries: the chosen lookback ending at the end of
// the data (or now, whichever is later).
export async function range() {
  if (state.end === null) {
    const info = await api('range');
    state.end = Math.floor(info.default_end_ns / 1e6);
  }
  return { to: state.end, lookback: document.getElementById('lookback').value };
}

export function formatTime(ns) {
  if (ns === null || ns === undefined) return '';
  return new Date(ns / 1e6).toISOString().replace('T', ' ').replace('Z', '');
}

export function formatDuration(ns) {
  if (ns === null || ns === undefined) return '';
  if (ns < 1e3) return ns.toFixed(0) + ' ns';
  if (ns < 1e6) return (ns / 1e3).toFixed(1) + ' µs';
  if (ns < 1e9) return (ns / 1e6).toFixed(1) + ' ms';
  return (ns / 1e9).toFixed(2) + ' s';
}

export function formatUsd(value) {
  if (value === null || value === undefined) return '';
  return '$' + Number(value).toPrecision(3);
}

// A stable colour per service: FNV-1a of the name, spread over the hue circle
// by the golden angle so that similar names get distant colours.
export function serviceColour(name) {
  let hash = 2166136261;
  for (const c of name || '') hash = Math.imul(hash ^ c.charCodeAt(0), 16777619) >>> 0;
  return `hsl(${Math.round((hash % 1000) * 137.508) % 360}, 60%, 44%)`;
}

export function table(columns, rows, onClick) {
  return el('table', {},
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', {}, c.title)))),
    el('tbody', {}, rows.map((row) => el('tr', {
      class: onClick ? 'clickable ' + (row._class || '') : row._class || '',
      onclick: onClick ? () => onClick(row) : null,
    }, columns.map((c) => el('td', { class: c.class || '' }, c.value(row)))))));
}

export function setView(...children) {
  const view = document.getElementById('view');
  view.replaceChildren(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return view;
}

export function go(hash) { location.hash = hash; }
