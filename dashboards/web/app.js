// tracelake web UI: hash-routed pages over the JSON API in /api/tracelake/,
// one ES module per view under views/ and the shared helpers in ui.js.
// Every piece of data is put in the page with textContent, never as HTML.

import { el, setView, showError, state } from './ui.js';
import { correlationPage } from './views/correlation.js';
import { logsPage } from './views/logs.js';
import { mapPage } from './views/map.js';
import { searchPage } from './views/search.js';
import { servicePage, servicesPage } from './views/services.js';
import { tracePage } from './views/trace.js';

async function route() {
  const hash = location.hash || '#/search';
  const [path, queryText] = hash.slice(1).split('?');
  const query = new URLSearchParams(queryText || '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  document.querySelectorAll('header nav a').forEach((a) => a.classList.toggle('active', hash.startsWith(a.getAttribute('href'))));
  setView(el('p', { class: 'muted' }, 'Loading…'));
  try {
    if (parts[0] === 'trace' && parts[1]) await tracePage(parts[1]);
    else if (parts[0] === 'map') await mapPage(query);
    else if (parts[0] === 'services') await servicesPage();
    else if (parts[0] === 'service' && parts[1]) await servicePage(parts[1]);
    else if (parts[0] === 'logs') await logsPage(query);
    else if (parts[0] === 'correlation') await correlationPage();
    else await searchPage(query);
  } catch (error) {
    showError(error.message);
    setView(el('p', { class: 'error-text', id: 'page-error' }, error.message));
  }
}

document.getElementById('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  state.token = document.getElementById('token-input').value;
  localStorage.setItem('tracelake-token', state.token);
  document.getElementById('token-bar').hidden = true;
  route();
});
document.getElementById('lookback').addEventListener('change', route);
window.addEventListener('hashchange', route);
route();
