//! Where the index lives: a local directory by default, `s3://bucket/prefix` in
//! AWS, anything `object_store` reads in tests (in-memory).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt as _;
use object_store::{
    ObjectMeta, ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload, path::Path,
};

/// Why the store could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no store we can open.
    #[error("invalid index url {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why it cannot be opened.
        reason: String,
    },
    /// A local index directory that cannot be created or is not a directory.
    #[error("cannot use {path:?} as an index directory")]
    LocalDirectory {
        /// The local path.
        path: String,
        /// The file system's error.
        #[source]
        source: std::io::Error,
    },
    /// A read or write through `object_store` failed.
    #[error("object store error at {location}")]
    ObjectStore {
        /// The object or prefix.
        location: String,
        /// `object_store`'s error.
        #[source]
        source: object_store::Error,
    },
}

/// Bounds on every S3 request, so that an endpoint that refuses connections,
/// answers 5xx or never answers fails with an error in bounded time instead
/// of hanging: `object_store`'s own defaults retry for up to 3 minutes.
///
/// The worst case for one call is about `retry_timeout + request_timeout`
/// (the last attempt started before the retry window closed, plus its backoff).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct S3Limits {
    /// Time to open a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Time for one whole request, response body included.
    pub request_timeout: Duration,
    /// Retries of a request that failed with a 5xx, 429, a refused connection
    /// or (for idempotent requests) a timeout.
    pub max_retries: usize,
    /// No retry starts after this long from the first attempt.
    pub retry_timeout: Duration,
}

impl Default for S3Limits {
    /// 5 s to connect, 30 s per request, at most 5 retries within 60 s.
    fn default() -> S3Limits {
        S3Limits {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_retries: 5,
            retry_timeout: Duration::from_secs(60),
        }
    }
}

impl S3Limits {
    /// The timeouts as `object_store` client options, to be set one by one:
    /// `AmazonS3Builder::with_client_options` would replace the client
    /// options `from_env` read (`AWS_ALLOW_HTTP`), so a local endpoint over
    /// plain HTTP named by the environment would be refused.
    fn client_config(&self) -> [(object_store::ClientConfigKey, String); 2] {
        let millis = |d: Duration| format!("{}ms", d.as_millis());
        [
            (
                object_store::ClientConfigKey::ConnectTimeout,
                millis(self.connect_timeout),
            ),
            (
                object_store::ClientConfigKey::Timeout,
                millis(self.request_timeout),
            ),
        ]
    }

    fn retry(&self) -> object_store::RetryConfig {
        object_store::RetryConfig {
            backoff: object_store::BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: self.retry_timeout.min(Duration::from_secs(15)),
                base: 2.0,
            },
            max_retries: self.max_retries,
            retry_timeout: self.retry_timeout,
        }
    }
}

/// The index root the `tracelake` and `tracelake-dashboards` commands use
/// when `--data` is not given: a directory under the working directory.
pub const DEFAULT_ROOT: &str = "./tracelake-data";

/// An index root: an object store and the path prefix inside it.
#[derive(Clone, Debug)]
pub struct IndexStore {
    store: Arc<dyn ObjectStore>,
    root: Path,
    url: String,
}

impl IndexStore {
    /// Opens a local directory (created if missing) or an `s3://` URL. S3
    /// credentials, region and endpoint come from the usual `AWS_*` variables.
    ///
    /// # Errors
    /// As [`IndexStore::open_with_options`].
    pub fn open(url: &str) -> Result<IndexStore, StoreError> {
        IndexStore::open_with_options(url, std::iter::empty::<(String, String)>())
    }

    /// Like [`IndexStore::open`], with `object_store` options for S3 (for
    /// example `aws_endpoint` and `aws_allow_http` for a local endpoint) and
    /// the default [`S3Limits`].
    ///
    /// # Errors
    /// [`StoreError::InvalidUrl`] for a URL or an option that names no store,
    /// [`StoreError::LocalDirectory`] for a local path that cannot be a directory.
    pub fn open_with_options(
        url: &str,
        options: impl IntoIterator<Item = (String, String)>,
    ) -> Result<IndexStore, StoreError> {
        IndexStore::open_with_limits(url, options, S3Limits::default())
    }

    /// Like [`IndexStore::open_with_options`], with explicit bounds on S3
    /// requests (ignored for a local directory). Options given as strings
    /// (`timeout`, `connect_timeout`, …) override the limits' timeouts.
    ///
    /// # Errors
    /// As [`IndexStore::open_with_options`].
    pub fn open_with_limits(
        url: &str,
        options: impl IntoIterator<Item = (String, String)>,
        limits: S3Limits,
    ) -> Result<IndexStore, StoreError> {
        let invalid = |reason: String| StoreError::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        if url.starts_with("s3://") || url.starts_with("s3a://") {
            let parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
            let mut builder = object_store::aws::AmazonS3Builder::from_env()
                .with_url(url)
                .with_retry(limits.retry());
            for (key, value) in limits.client_config() {
                builder =
                    builder.with_config(object_store::aws::AmazonS3ConfigKey::Client(key), value);
            }
            for (key, value) in options {
                let key = key
                    .parse::<object_store::aws::AmazonS3ConfigKey>()
                    .map_err(|e| invalid(e.to_string()))?;
                builder = builder.with_config(key, value);
            }
            let store = builder.build().map_err(|e| invalid(e.to_string()))?;
            let root = Path::from_url_path(parsed.path()).map_err(|e| invalid(e.to_string()))?;
            return Ok(IndexStore {
                store: Arc::new(store),
                root,
                url: url.to_owned(),
            });
        }
        if let Some((scheme, _)) = url.split_once("://")
            && scheme != "file"
        {
            return Err(invalid(format!(
                "unsupported scheme {scheme:?}: use a local path or s3://bucket/prefix"
            )));
        }
        let local = url.strip_prefix("file://").unwrap_or(url);
        let local_error = |source| StoreError::LocalDirectory {
            path: local.to_owned(),
            source,
        };
        std::fs::create_dir_all(local).map_err(local_error)?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(local)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(IndexStore {
            store: Arc::new(store),
            root: Path::default(),
            url: url.to_owned(),
        })
    }

    /// Opens an existing local directory or S3 URL for reading: a local path that
    /// does not exist is an error rather than a new empty index.
    ///
    /// # Errors
    /// [`StoreError::LocalDirectory`] for a local path that does not exist or is
    /// not a directory; otherwise as [`IndexStore::open`].
    pub fn open_existing(url: &str) -> Result<IndexStore, StoreError> {
        let is_local = !url.contains("://") || url.starts_with("file://");
        if is_local {
            let local = url.strip_prefix("file://").unwrap_or(url);
            match std::fs::metadata(local) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(StoreError::LocalDirectory {
                        path: local.to_owned(),
                        source: std::io::Error::other("not a directory"),
                    });
                }
                Err(source) => {
                    return Err(StoreError::LocalDirectory {
                        path: local.to_owned(),
                        source,
                    });
                }
            }
        }
        IndexStore::open(url)
    }

    /// Wraps any object store (for example `InMemory` in tests).
    pub fn from_object_store(store: Arc<dyn ObjectStore>, root: Path) -> IndexStore {
        IndexStore {
            url: format!("{store}/{root}"),
            store,
            root,
        }
    }

    /// The URL or description the store was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The object store, for readers such as DataFusion.
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// The prefix of the index inside the object store.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The full object path of a path relative to the root.
    pub fn path(&self, relative: &str) -> Path {
        let mut path = self.root.clone();
        for part in relative.split('/').filter(|p| !p.is_empty()) {
            path = path.clone().join(part);
        }
        path
    }

    /// Writes one object in a single put: atomic on S3, and a temporary file
    /// renamed into place on a local disk.
    ///
    /// # Errors
    /// [`StoreError::ObjectStore`] when the store refuses the write.
    pub async fn put(&self, relative: &str, bytes: Bytes) -> Result<(), StoreError> {
        let location = self.path(relative);
        self.store
            .put(&location, PutPayload::from(bytes))
            .await
            .map_err(|source| StoreError::ObjectStore {
                location: location.to_string(),
                source,
            })?;
        Ok(())
    }

    /// Creates an object only if none exists at that path (`PutMode::Create`:
    /// `If-None-Match: *` on S3, an exclusive create on a local disk). Returns
    /// `false`, writing nothing, when the object already exists.
    ///
    /// # Errors
    /// [`StoreError::ObjectStore`] when the store fails or cannot create conditionally.
    pub async fn put_if_absent(&self, relative: &str, bytes: Bytes) -> Result<bool, StoreError> {
        let location = self.path(relative);
        let options = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        match self
            .store
            .put_opts(&location, PutPayload::from(bytes), options)
            .await
        {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(source) => Err(StoreError::ObjectStore {
                location: location.to_string(),
                source,
            }),
        }
    }

    /// Deletes one object; deleting an object that is already gone succeeds.
    ///
    /// # Errors
    /// [`StoreError::ObjectStore`] when the store refuses.
    pub async fn delete(&self, relative: &str) -> Result<(), StoreError> {
        let location = self.path(relative);
        match self.store.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(StoreError::ObjectStore {
                location: location.to_string(),
                source,
            }),
        }
    }

    /// Reads one object, or `None` when there is none at that path.
    ///
    /// # Errors
    /// [`StoreError::ObjectStore`] when the store fails for another reason.
    pub async fn get_if_exists(&self, relative: &str) -> Result<Option<Bytes>, StoreError> {
        match self.get(relative).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(StoreError::ObjectStore {
                source: object_store::Error::NotFound { .. },
                ..
            }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The names of the "directories" directly under a relative prefix
    /// (`dt=2026-11-29`, `hour=05`, …), sorted.
    ///
    /// # Errors
    /// [`StoreError::ObjectStore`] when the listing fails.
    pub async fn list_dirs(&self, relative_prefix: &str) -> Result<Vec<String>, StoreError> {
        let prefix = self.path(relative_prefix);
        let listing = self
            .store
            .list_with_delimiter(Some(&prefix))
            .await
            .map_err(|source| StoreError::ObjectStore {
                location: prefix.to_string(),
                source,
            })?;
        let mut names: Vec<String> = listing
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    /// The full URI of a path relative to the root, as other engines name the
    /// object: `s3://bucket/prefix/v1/…` or `file:///abs/dir/v1/…`; for a
    /// store opened from an object store instance, its description and path.
    pub fn uri(&self, relative: &str) -> String {
        let relative = relative.trim_start_matches('/');
        if let Some(rest) = self
            .url
            .strip_prefix("s3://")
            .or(self.url.strip_prefix("s3a://"))
        {
            return format!("s3://{}/{relative}", rest.trim_end_matches('/'));
        }
        if !self.url.contains("://") || self.url.starts_with("file://") {
            let local = self.url.strip_prefix("file://").unwrap_or(&self.url);
            let absolute = std::path::absolute(local)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| local.to_owned());
            return format!("file://{}/{relative}", absolute.trim_end_matches('/'));
        }
        format!("{}/{relative}", self.url.trim_end_matches('/'))
    }

    /// The local file path of a relative path, when the store is a local directory.
    pub fn local_path(&self, relative: &str) -> Option<std::path::PathBuf> {
        let uri = self.uri(relative);
        uri.strip_prefix("file://").map(std::path::PathBuf::from)
    }

    /// Reads one object.
    ///
    /// # Errors
    /// [`StoreError::ObjectStore`] when the object is missing or the read fails.
    pub async fn get(&self, relative: &str) -> Result<Bytes, StoreError> {
        let location = self.path(relative);
        let error = |source| StoreError::ObjectStore {
            location: location.to_string(),
            source,
        };
        self.store
            .get(&location)
            .await
            .map_err(error)?
            .bytes()
            .await
            .map_err(error)
    }

    /// Lists every object under a relative prefix, sorted by path.
    ///
    /// # Errors
    /// [`StoreError::ObjectStore`] when the listing fails.
    pub async fn list(&self, relative_prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        let prefix = self.path(relative_prefix);
        let mut objects: Vec<ObjectMeta> = self
            .store
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(|source| StoreError::ObjectStore {
                location: prefix.to_string(),
                source,
            })?;
        objects.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(objects)
    }

    /// The path of an object relative to the root.
    pub fn relative(&self, location: &Path) -> String {
        match location.prefix_match(&self.root) {
            Some(parts) => parts
                .map(|p| p.as_ref().to_owned())
                .collect::<Vec<_>>()
                .join("/"),
            None => location.to_string(),
        }
    }
}
