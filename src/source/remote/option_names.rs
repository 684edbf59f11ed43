//! The storage option names each store takes, and the nearest of them to a name it does
//! not: a misspelt option (`aws_regoin`) is refused with the names the user likely meant,
//! as a misspelt keyword is.

/// Options every store's HTTP client takes (object_store's `ClientConfigKey`).
const CLIENT: &[&str] = &[
    "allow_http",
    "allow_invalid_certificates",
    "connect_timeout",
    "default_content_type",
    "http1_only",
    "http2_only",
    "http2_keep_alive_interval",
    "http2_keep_alive_timeout",
    "http2_keep_alive_while_idle",
    "http2_max_frame_size",
    "pool_idle_timeout",
    "pool_max_idle_per_host",
    "proxy_url",
    "proxy_ca_certificate",
    "proxy_excludes",
    "randomize_addresses",
    "timeout",
    "user_agent",
];

/// S3's options by the names Polars' documentation gives them (object_store also takes
/// them without the `aws_` prefix).
const S3: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_region",
    "aws_default_region",
    "aws_bucket",
    "aws_endpoint_url",
    "aws_endpoint_url_s3",
    "aws_virtual_hosted_style_request",
    "aws_s3_express",
    "aws_imdsv1_fallback",
    "aws_metadata_endpoint",
    "aws_unsigned_payload",
    "aws_checksum_algorithm",
    "aws_container_credentials_relative_uri",
    "aws_container_credentials_full_uri",
    "aws_container_authorization_token_file",
    "aws_web_identity_token_file",
    "aws_role_arn",
    "aws_role_session_name",
    "aws_endpoint_url_sts",
    "aws_skip_signature",
    "aws_copy_if_not_exists",
    "aws_conditional_put",
    "aws_disable_tagging",
    "aws_request_payer",
    "aws_allow_http",
    "aws_server_side_encryption",
    "aws_sse_kms_key_id",
    "aws_sse_bucket_key_enabled",
    "aws_sse_customer_key_base64",
];

const GCS: &[&str] = &[
    "google_service_account",
    "google_service_account_path",
    "google_service_account_key",
    "google_bucket",
    "google_base_url",
    "google_application_credentials",
    "google_skip_signature",
];

const AZURE: &[&str] = &[
    "azure_storage_account_name",
    "azure_storage_account_key",
    "azure_storage_client_id",
    "azure_storage_client_secret",
    "azure_storage_tenant_id",
    "azure_storage_authority_host",
    "azure_storage_sas_token",
    "azure_storage_token",
    "azure_storage_use_emulator",
    "azure_endpoint",
    "azure_msi_endpoint",
    "azure_object_id",
    "azure_msi_resource_id",
    "azure_federated_token_file",
    "azure_use_fabric_endpoint",
    "azure_use_azure_cli",
    "azure_skip_signature",
    "azure_container_name",
    "azure_disable_tagging",
    "azure_allow_http",
];

/// The option names of a store (`s3`, `gs`, `azure`, `http`), its own then its client's.
fn names(store: &str) -> impl Iterator<Item = &'static str> {
    let own: &[&str] = match store {
        "s3" => S3,
        "gs" => GCS,
        "azure" => AZURE,
        _ => &[],
    };
    own.iter().chain(CLIENT).copied()
}

/// The store's option names nearest to `name` (case aside), nearest first, at most three:
/// those a few typing slips away, as Python's `difflib` would offer them.
pub(super) fn nearest_option_names(name: &str, store: &str) -> Vec<&'static str> {
    let name = name.to_ascii_lowercase();
    let most = (name.chars().count() / 3).max(2);
    let mut near: Vec<(usize, &str)> =
        names(store).map(|known| (slips(&name, known), known)).filter(|(d, _)| *d <= most).collect();
    near.sort();
    near.into_iter().take(3).map(|(_, known)| known).collect()
}

/// The fewest characters inserted, deleted, replaced or swapped with their neighbour that
/// make `a` into `b` (the optimal string alignment distance): `regoin` is one from `region`.
fn slips(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // Three rows of the table: two back (for swaps), the last and this one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut last: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let replace = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (last[j] + 1).min(row[j - 1] + 1).min(last[j - 1] + replace);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before[j - 2] + 1);
            }
        }
        before = std::mem::replace(&mut last, row);
    }
    last[b.len()]
}

#[cfg(test)]
mod tests {
    use object_store::aws::AmazonS3ConfigKey;
    use object_store::azure::AzureConfigKey;
    use object_store::gcp::GoogleConfigKey;
    use object_store::ClientConfigKey;

    use super::*;

    #[test]
    fn every_listed_name_is_an_option_of_its_store() {
        for name in names("s3") {
            assert!(name.parse::<AmazonS3ConfigKey>().is_ok(), "{name}");
        }
        for name in names("gs") {
            assert!(name.parse::<GoogleConfigKey>().is_ok(), "{name}");
        }
        for name in names("azure") {
            assert!(name.parse::<AzureConfigKey>().is_ok(), "{name}");
        }
        for name in names("http") {
            assert!(name.parse::<ClientConfigKey>().is_ok(), "{name}");
        }
    }

    #[test]
    fn slips_count_insertions_deletions_replacements_and_swaps() {
        assert_eq!(slips("region", "region"), 0);
        assert_eq!(slips("regoin", "region"), 1);
        assert_eq!(slips("regon", "region"), 1);
        assert_eq!(slips("regionn", "region"), 1);
        assert_eq!(slips("rxgion", "region"), 1);
        assert_eq!(slips("", "abc"), 3);
        assert_eq!(slips("abc", ""), 3);
        assert_eq!(slips("ca", "abc"), 3);
    }

    #[test]
    fn a_misspelt_option_gets_the_names_it_is_nearest() {
        assert_eq!(nearest_option_names("aws_regoin", "s3"), ["aws_region"]);
        assert_eq!(nearest_option_names("AWS_SECRET_ACCES_KEY", "s3"), ["aws_secret_access_key"]);
        assert_eq!(nearest_option_names("aws_endpoint", "s3")[0], "aws_endpoint_url");
        assert_eq!(nearest_option_names("google_service_acount", "gs")[0], "google_service_account");
        assert_eq!(nearest_option_names("azure_storage_acount_name", "azure")[0], "azure_storage_account_name");
        assert_eq!(nearest_option_names("allow_htp", "http"), ["allow_http"]);
        assert!(nearest_option_names("colour", "s3").is_empty());
        // A store's own names only: no S3 name is offered for Google Cloud Storage.
        assert!(nearest_option_names("aws_region", "gs").is_empty());
    }
}
