//! Object stores built from a URL and the user's options (cached per bucket), listing
//! for globs, and the runtime every request runs on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{BackoffConfig, ObjectStore, ObjectStoreScheme, RetryConfig};
use tokio::runtime::Runtime;

use super::option_names::nearest_option_names;
use crate::error::{AvroError, AvroResult, ErrorKind};
use crate::source::listing::glob_base;

/// What a user passes besides the URL: the store's configuration keys (those Polars
/// accepts: `aws_region`, `google_service_account`, `azure_storage_account_name`, ...)
/// and how often a failed request is retried.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RemoteOptions {
    /// (key, value) pairs of the store's configuration.
    pub options: Vec<(String, String)>,
    /// Retries of a failed request, with exponential backoff.
    pub retries: usize,
}

/// An object as a listing gives it: (URL, size, ETag).
pub type ListedObject = (String, u64, Option<String>);

/// The objects a glob pattern URL matches (`source::glob_matches`), sorted by URL: the
/// objects under the pattern's base (`source::glob_base`), listed once.
pub fn glob_objects(pattern_url: &str, options: &RemoteOptions) -> AvroResult<Vec<ListedObject>> {
    let mut objects = list_objects(glob_base(pattern_url), options)?;
    objects.retain(|(url, ..)| crate::source::listing::glob_matches(pattern_url, url));
    objects.sort();
    Ok(objects)
}

/// The `.avro` objects under a URL prefix (a folder's, ending in `/`), sorted by URL.
pub fn avro_objects_under(prefix_url: &str, options: &RemoteOptions) -> AvroResult<Vec<ListedObject>> {
    let mut objects = list_objects(prefix_url, options)?;
    objects.retain(|(url, ..)| url.ends_with(".avro"));
    objects.sort();
    Ok(objects)
}

/// The objects under a URL prefix.
fn list_objects(prefix_url: &str, options: &RemoteOptions) -> AvroResult<Vec<ListedObject>> {
    let (store, prefix) = store_for(prefix_url, options)?;
    let base = store_base(prefix_url, &prefix);
    let listing = runtime().spawn(async move {
        let prefix = (!prefix.as_ref().is_empty()).then_some(prefix);
        store.list(prefix.as_ref()).try_collect::<Vec<_>>().await
    });
    let objects = wait(listing)?.map_err(|e| store_error(e, prefix_url, "could not list"))?;
    Ok(objects.into_iter().map(|m| (format!("{base}{}", url_path(&m.location)), m.size, m.e_tag)).collect())
}

/// An object's key as a URL path: each segment percent-encoded, so that opening the URL
/// (which decodes it) finds this very key, `%` and spaces included (hive folders that
/// Polars writes percent-encoded keep their `%`).
fn url_path(location: &Path) -> String {
    let mut out = String::with_capacity(location.as_ref().len());
    for (i, segment) in location.as_ref().split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        for byte in segment.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~=!$&'()*+,;:@".contains(&byte) {
                out.push(byte as char);
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

/// The one runtime that runs every request; its threads only wait on the network.
pub(crate) fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("polars-avro-io")
            .enable_all()
            .build()
            .expect("the I/O runtime starts")
    })
}

/// Waits for a request from any thread: also one already inside some other runtime
/// (Polars' own), where tokio's `block_on` would panic.
pub(crate) fn wait<T>(task: tokio::task::JoinHandle<T>) -> AvroResult<T> {
    futures::executor::block_on(task)
        .map_err(|e| AvroError::new(ErrorKind::Io, format!("a request to the object store failed: {e}")))
}

/// The URL with the object's path taken off: what stores are cached by, and what listed
/// paths are appended to.
pub(super) fn store_base(url: &str, path: &Path) -> String {
    // Segment by segment: the URL may spell the path with percent-escapes.
    let mut base = url.split(['?', '#']).next().unwrap_or(url).trim_end_matches('/');
    for _ in path.parts() {
        base = base.rfind('/').map_or(base, |i| &base[..i]);
    }
    format!("{base}/")
}

/// Stores are built once per base URL and options, so that files of one bucket share
/// connections and credentials.
pub(super) fn store_for(url: &str, options: &RemoteOptions) -> AvroResult<(Arc<dyn ObjectStore>, Path)> {
    let parsed = url::Url::parse(url).map_err(|e| AvroError::argument(format!("'{url}' is not a valid URL: {e}")))?;
    let (scheme, path) = ObjectStoreScheme::parse(&parsed).map_err(|_| {
        AvroError::argument(format!("'{url}' names no supported object store (s3, gs, az, abfs, http, https)"))
    })?;
    type Cache = Mutex<HashMap<(String, RemoteOptions), Arc<dyn ObjectStore>>>;
    static STORES: OnceLock<Cache> = OnceLock::new();
    let key = (store_base(url, &path), options.clone());
    let mut stores = STORES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(store) = stores.get(&key) {
        return Ok((store.clone(), path));
    }
    let store = build_store(scheme, &parsed, options)?;
    stores.insert(key, store.clone());
    Ok((store, path))
}

fn build_store(scheme: ObjectStoreScheme, url: &url::Url, options: &RemoteOptions) -> AvroResult<Arc<dyn ObjectStore>> {
    use object_store::aws::AmazonS3Builder;
    use object_store::azure::MicrosoftAzureBuilder;
    use object_store::gcp::GoogleCloudStorageBuilder;
    use object_store::http::HttpBuilder;

    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(15),
            base: 2.0,
        },
        max_retries: options.retries,
        retry_timeout: Duration::from_secs(180),
    };
    // Each store reads its settings from the environment first (`AWS_*`, `GOOGLE_*`,
    // `AZURE_*`), then takes the options, which override them. Plain HTTP is allowed, as
    // Polars' scans allow it (a local MinIO or LocalStack endpoint reads as given), unless
    // the options say `allow_http` false.
    let store: Arc<dyn ObjectStore> = match scheme {
        ObjectStoreScheme::AmazonS3 => {
            let mut builder =
                AmazonS3Builder::from_env().with_url(url.as_str()).with_retry(retry).with_allow_http(true);
            for (key, value) in &options.options {
                builder = builder.with_config(parse_key(key, "s3")?, value);
            }
            Arc::new(builder.build().map_err(config_error)?)
        },
        ObjectStoreScheme::GoogleCloudStorage => {
            // Its client takes the plain-HTTP endpoint given as `google_base_url` already.
            let mut builder = GoogleCloudStorageBuilder::from_env().with_url(url.as_str()).with_retry(retry);
            for (key, value) in &options.options {
                builder = builder.with_config(parse_key(key, "gs")?, value);
            }
            Arc::new(builder.build().map_err(config_error)?)
        },
        ObjectStoreScheme::MicrosoftAzure => {
            let mut builder =
                MicrosoftAzureBuilder::from_env().with_url(url.as_str()).with_retry(retry).with_allow_http(true);
            for (key, value) in &options.options {
                builder = builder.with_config(parse_key(key, "azure")?, value);
            }
            Arc::new(builder.build().map_err(config_error)?)
        },
        ObjectStoreScheme::Http => {
            let base = &url[..url::Position::BeforePath];
            // An http:// URL asks for plain HTTP; the client refuses it unless told.
            let client = object_store::ClientOptions::new().with_allow_http(url.scheme() == "http");
            let mut builder = HttpBuilder::new().with_url(base).with_retry(retry).with_client_options(client);
            for (key, value) in &options.options {
                builder = builder.with_config(parse_key(key, "http")?, value);
            }
            Arc::new(builder.build().map_err(config_error)?)
        },
        _ => {
            return Err(AvroError::argument(format!(
                "'{url}' names no supported object store (s3, gs, az, abfs, http, https)"
            )))
        },
    };
    Ok(store)
}

fn parse_key<K: std::str::FromStr>(key: &str, store: &str) -> AvroResult<K> {
    key.to_ascii_lowercase().parse().map_err(|_| {
        let near = nearest_option_names(key, store);
        let hint = match near.as_slice() {
            [] => String::new(),
            [one] => format!(": did you mean '{one}'?"),
            several => format!(": did you mean one of '{}'?", several.join("', '")),
        };
        AvroError::argument(format!("storage_options: '{key}' is not an option of the {store} store{hint}"))
    })
}

fn config_error(err: object_store::Error) -> AvroError {
    AvroError::argument(format!("storage_options: {err}")).with_source(err)
}

/// An object store error as the package's error: missing objects and refused
/// credentials get kinds of their own (FileNotFoundError and PermissionError in Python).
pub(crate) fn store_error(err: object_store::Error, url: &str, what: &str) -> AvroError {
    use object_store::Error as E;
    // Listing reports HTTP failures as generic errors; the status is only in their text.
    let text = with_root_cause(&err);
    let status = |code: &str| matches!(err, E::Generic { .. }) && text.contains(code);
    let (kind, message) = match &err {
        _ if asked_for_credentials(&text) => (ErrorKind::PermissionDenied, no_credentials(what, url, &text)),
        E::NotFound { .. } => (ErrorKind::NotFound, format!("no such object: '{url}'")),
        _ if status(" 404 Not Found") => (ErrorKind::NotFound, format!("no such object: '{url}'")),
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => {
            (ErrorKind::PermissionDenied, denied(what, url, &text))
        },
        _ if status(" 403 Forbidden") || status(" 401 Unauthorized") => {
            (ErrorKind::PermissionDenied, denied(what, url, &text))
        },
        _ => (ErrorKind::Io, format!("{what} '{url}': {text}")),
    };
    AvroError::new(kind, message).in_file(url).with_source(err)
}

/// The error's text, and its innermost cause's where the text lacks it: the store's errors
/// wrap the HTTP client's, which wrap the operating system's ("error sending request" says
/// nothing of the "Connection refused (os error 111)" under it).
fn with_root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let text = err.to_string();
    let mut root = None;
    let mut cause = err.source();
    while let Some(e) = cause {
        root = Some(e);
        cause = e.source();
    }
    match root.map(|e| e.to_string()) {
        Some(reason) if !reason.trim().is_empty() && !text.contains(reason.trim()) => {
            format!("{}: {}", text.trim_end(), reason.trim())
        },
        _ => text,
    }
}

fn denied(what: &str, url: &str, detail: &str) -> String {
    format!("{what} '{url}': access denied ({detail}); check the credentials in storage_options or the environment")
}

/// Whether a request failed at the endpoint a store asks for credentials when neither its
/// options nor the environment hold any: a cloud's instance metadata service (AWS, Google
/// Cloud, Azure's managed identity), at 169.254.169.254 or where the options moved it.
fn asked_for_credentials(text: &str) -> bool {
    ["/latest/api/token", "/latest/meta-data/iam/", "/computeMetadata/v1/", "/metadata/identity/oauth2/token"]
        .iter()
        .any(|path| text.contains(path))
}

/// The error for a store that found no credentials: which it looked for, and how to give
/// them, rather than the metadata service's refusal alone (which reads as a permissions
/// problem).
fn no_credentials(what: &str, url: &str, detail: &str) -> String {
    let (cloud, looked_for, give) = match url.split_once("://").map(|(scheme, _)| scheme) {
        Some("gs") => (
            "Google Cloud",
            "google_service_account_key or google_service_account (a key file) in storage_options, \
             GOOGLE_SERVICE_ACCOUNT_KEY or GOOGLE_APPLICATION_CREDENTIALS in the environment",
            "give a service account key in storage_options or the environment",
        ),
        Some("az" | "abfs" | "abfss" | "adl" | "azure") => (
            "Azure",
            "azure_storage_account_key, azure_storage_sas_token or a client secret in storage_options, \
             AZURE_STORAGE_ACCOUNT_KEY and the like in the environment",
            "give a key in storage_options or the environment, or pass \
             credential_provider=pl.CredentialProviderAzure(...)",
        ),
        _ => (
            "AWS",
            "aws_access_key_id and aws_secret_access_key in storage_options, AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY (or a web identity or container credentials) in the environment",
            "give the keys in storage_options or the environment; for a profile of ~/.aws/config, pass \
             credential_provider=pl.CredentialProviderAWS(profile_name=\"...\"); for a public bucket, \
             storage_options={\"aws_skip_signature\": \"true\"}",
        ),
    };
    format!(
        "{what} '{url}': no {cloud} credentials were found: none of {looked_for}, and the instance metadata \
         service gave none ({detail}); {give}"
    )
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    fn refused() -> Box<dyn Error + Send + Sync> {
        Box::new(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused"))
    }

    /// The messages of an error and of its causes, outermost first.
    fn chain(err: &AvroError) -> Vec<String> {
        let mut texts = vec![err.to_string()];
        let mut cause = err.source();
        while let Some(e) = cause {
            texts.push(e.to_string());
            cause = e.source();
        }
        texts
    }

    #[test]
    fn a_store_without_credentials_says_which_it_looked_for_and_how_to_give_them() {
        let imds = |url: &str| {
            let text =
                format!("Error performing PUT {url} in 1ms - Server returned non-2xx status code: 403 Forbidden");
            object_store::Error::Generic { store: "S3", source: text.into() }
        };
        for metadata in ["http://169.254.169.254/latest/api/token", "http://127.0.0.1:9/latest/api/token"] {
            let err = store_error(imds(metadata), "s3://b/k.avro", "could not open");
            assert_eq!(err.kind, ErrorKind::PermissionDenied);
            assert!(
                err.message.starts_with("could not open 's3://b/k.avro': no AWS credentials were found"),
                "{}",
                err.message
            );
            assert!(err.message.contains("CredentialProviderAWS(profile_name="), "{}", err.message);
            assert!(err.message.contains(metadata), "{}", err.message);
        }
        let gcs = object_store::Error::Generic {
            store: "GCS",
            source:
                "Error performing GET http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token"
                    .into(),
        };
        assert!(store_error(gcs, "gs://b/k", "could not open").message.contains("no Google Cloud credentials"));
        // A refusal of the store itself stays one.
        let refused =
            object_store::Error::Generic { store: "S3", source: "Server returned 403 Forbidden: AccessDenied".into() };
        let err = store_error(refused, "s3://b/k", "could not open");
        assert!(err.message.contains("access denied"), "{}", err.message);
    }

    #[test]
    fn a_store_error_keeps_its_cause() {
        let missing = object_store::Error::NotFound { path: "b/k".into(), source: refused() };
        let err = store_error(missing, "s3://b/k", "could not open");
        assert_eq!(err.kind, ErrorKind::NotFound);
        let source = err.source().and_then(|s| s.downcast_ref::<object_store::Error>());
        assert!(matches!(source, Some(object_store::Error::NotFound { .. })), "{source:?}");

        let failed = object_store::Error::Generic { store: "HTTP", source: refused() };
        let err = store_error(failed, "http://h/k", "could not open");
        assert_eq!(err.kind, ErrorKind::Io);
        // Through the store's error, the chain reaches the operating system's reason, and
        // the message says it.
        assert_eq!(chain(&err).last().map(String::as_str), Some("Connection refused"), "{:?}", chain(&err));
        assert!(err.message.ends_with(": Connection refused"), "{}", err.message);
    }
}
