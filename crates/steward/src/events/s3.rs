//! S3 `Object Created`: new training data landed in a watched bucket.

use serde::{Deserialize, Serialize};

use super::{AwsDetail, EventError};

/// The detail of an S3 `Object Created` event (source `aws.s3`), as S3 sends it
/// to EventBridge once the bucket has EventBridge notifications on.
///
/// Shape: Amazon S3 User Guide, "EventBridge event message structure"
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html>),
/// example "Object created" and the "Event message detail field" list. The detail
/// is kebab-case (`version-id`, `request-id`, `source-ip-address`).
///
/// The key is taken as is. The EventBridge format documents it as a plain field,
/// unlike the older S3 notification format (SQS/SNS/Lambda `Records[]`), whose
/// documentation says the key is URL-encoded (`red flower.jpg` becomes
/// `red+flower.jpg`); so no decoding happens here, which would corrupt keys that
/// contain a literal `+` or `%`.
///
/// The local emulator (moto 5.2) differs from AWS in ways this type absorbs: it
/// writes `eTag` rather than `etag`, `version-id` is `null` in an unversioned
/// bucket, and `reason` is `ObjectCreated` rather than the API name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ObjectCreated {
    /// Detail schema version, `"0"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub bucket: Bucket,
    pub object: Object,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Account id or service principal that made the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<String>,
    /// Present only for events caused by an S3 request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip_address: Option<String>,
    /// The API that created the object: `PutObject`, `POST Object`,
    /// `CopyObject` or `CompleteMultipartUpload`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The bucket of an S3 event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    pub name: String,
}

/// The object of an S3 event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Object {
    pub key: String,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The entity tag, unquoted; `eTag` is how moto spells it.
    #[serde(default, alias = "eTag", skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Present when the bucket is versioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// Orders events for the same key: a greater hex value is a later event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequencer: Option<String>,
}

impl AwsDetail for ObjectCreated {
    const SOURCE: &'static str = "aws.s3";
    const DETAIL_TYPE: &'static str = "Object Created";
}

impl ObjectCreated {
    /// Which version of the object this is: the S3 version id where the bucket
    /// is versioned, else the etag (content hash), so a build can name its data.
    pub fn data_version(&self) -> Option<&str> {
        self.object
            .version_id
            .as_deref()
            .or(self.object.etag.as_deref())
    }

    /// [`Self::data_version`], for a build that must not start on data it cannot name.
    pub fn require_data_version(&self) -> Result<&str, EventError> {
        self.data_version().ok_or(EventError::MissingField {
            field: "detail.object.etag",
        })
    }

    /// `s3://bucket/key`.
    pub fn s3_uri(&self) -> String {
        format!("s3://{}/{}", self.bucket.name, self.object.key)
    }

    /// The key's "folder", up to and including the last `/` (empty at the
    /// bucket root): the data set a marker object such as `_SUCCESS` closes.
    pub fn prefix(&self) -> &str {
        let key = self.object.key.as_str();
        key.rfind('/').map_or("", |slash| &key[..=slash])
    }

    /// The key after its last `/`, e.g. `_SUCCESS`.
    pub fn file_name(&self) -> &str {
        let key = self.object.key.as_str();
        key.rfind('/').map_or(key, |slash| &key[slash + 1..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{decode_as, decode_str_as, Envelope, Timestamp};
    use serde_json::{json, Value};

    const MARKER: &str = include_str!("../../../../events/s3-object-created.json");
    const DATA_FILE: &str = include_str!("../../../../events/s3-object-created-data-file.json");

    fn decode(text: &str) -> Envelope<ObjectCreated> {
        decode_str_as::<ObjectCreated>(text).expect("sample decodes")
    }

    #[test]
    fn marker_sample_decodes() {
        let event = decode(MARKER);
        assert_eq!(event.account.as_deref(), Some("123456789012"));
        assert_eq!(event.region.as_deref(), Some("us-east-1"));
        assert_eq!(
            event.time.map(Timestamp),
            "2026-11-23T06:15:02Z".parse().ok()
        );
        assert_eq!(
            event.resources.as_deref(),
            Some(&["arn:aws:s3:::acme-ml-data".to_owned()][..])
        );
        let detail = &event.detail;
        assert_eq!(detail.version.as_deref(), Some("0"));
        assert_eq!(detail.bucket.name, "acme-ml-data");
        assert_eq!(
            detail.object.key,
            "payroll-fraud/transactions/2026-11-23/_SUCCESS"
        );
        assert_eq!(detail.object.size, Some(0));
        assert_eq!(
            detail.object.etag.as_deref(),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert_eq!(
            detail.object.version_id.as_deref(),
            Some("Xq3bS1v0h7Wm2e_rJ9pQYc4Lk8TnDa6F")
        );
        assert_eq!(
            detail.object.sequencer.as_deref(),
            Some("0067416E06A1B2C3D4")
        );
        assert_eq!(detail.request_id.as_deref(), Some("7QKX4M2Z9RB1HT0E"));
        assert_eq!(detail.requester.as_deref(), Some("123456789012"));
        assert_eq!(detail.source_ip_address.as_deref(), Some("10.0.14.27"));
        assert_eq!(detail.reason.as_deref(), Some("PutObject"));
        assert_eq!(
            detail.data_version(),
            Some("Xq3bS1v0h7Wm2e_rJ9pQYc4Lk8TnDa6F")
        );
        assert_eq!(detail.prefix(), "payroll-fraud/transactions/2026-11-23/");
        assert_eq!(detail.file_name(), "_SUCCESS");
        assert_eq!(
            detail.s3_uri(),
            "s3://acme-ml-data/payroll-fraud/transactions/2026-11-23/_SUCCESS"
        );
    }

    #[test]
    fn data_file_sample_decodes() {
        let detail = decode(DATA_FILE).detail;
        assert_eq!(
            detail.object.key,
            "payroll-fraud/transactions/2026-11-23/part-0000.csv"
        );
        assert_eq!(detail.object.size, Some(48_213_977));
        assert_eq!(detail.reason.as_deref(), Some("CompleteMultipartUpload"));
        assert_eq!(detail.prefix(), "payroll-fraud/transactions/2026-11-23/");
        assert_eq!(detail.file_name(), "part-0000.csv");
        assert_eq!(
            detail.data_version(),
            Some("pL0aQ7r9XnE2vB5c_Hk1Wm8sTz3Yd4Gu")
        );
    }

    /// What moto 5.2 puts on the bus for a put into an unversioned bucket.
    fn moto_event() -> Value {
        json!({
            "version": "0",
            "id": "17793124-05d4-b198-2fde-7ededc63b103",
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": "123456789012",
            "time": "2026-11-23T06:15:02Z",
            "region": "us-east-1",
            "resources": ["arn:aws:s3:::acme-ml-data"],
            "detail": {
                "version": "0",
                "bucket": {"name": "acme-ml-data"},
                "object": {
                    "key": "payroll-fraud/transactions/2026-11-23/_SUCCESS",
                    "size": 0,
                    "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                    "version-id": null,
                    "sequencer": "617f08299329d189"
                },
                "request-id": "N4N7GDK58NMKJ12R",
                "requester": "123456789012",
                "source-ip-address": "1.2.3.4",
                "reason": "ObjectCreated"
            }
        })
    }

    #[test]
    fn moto_etag_spelling_and_null_version_are_accepted() {
        let detail = decode_as::<ObjectCreated>(moto_event())
            .expect("moto event decodes")
            .detail;
        assert_eq!(
            detail.object.etag.as_deref(),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert_eq!(detail.object.version_id, None);
        assert_eq!(
            detail.data_version(),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert_eq!(
            detail.require_data_version(),
            Ok("d41d8cd98f00b204e9800998ecf8427e")
        );
    }

    #[test]
    fn serializes_as_aws_spells_it() {
        let detail = decode_as::<ObjectCreated>(moto_event())
            .expect("moto event decodes")
            .detail;
        let written = serde_json::to_value(&detail).expect("serializes");
        assert_eq!(
            written["object"]["etag"],
            json!("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert!(written["object"].get("eTag").is_none());
        assert!(written["object"].get("version-id").is_none());
        assert_eq!(written["request-id"], json!("N4N7GDK58NMKJ12R"));
    }

    #[test]
    fn without_version_or_etag_there_is_no_data_version() {
        let mut value = moto_event();
        let object = value["detail"]["object"].as_object_mut().expect("object");
        object.remove("eTag");
        object.remove("version-id");
        let detail = decode_as::<ObjectCreated>(value).expect("decodes").detail;
        assert_eq!(detail.data_version(), None);
        assert_eq!(
            detail.require_data_version(),
            Err(EventError::MissingField {
                field: "detail.object.etag"
            })
        );
    }

    #[test]
    fn unknown_detail_fields_are_ignored() {
        let mut value = moto_event();
        value["detail"]["event-version"] = json!("1.0");
        value["detail"]["object"]["checksum"] = json!({"crc64nvme": "abc"});
        value["detail"]["bucket"]["arn"] = json!("arn:aws:s3:::acme-ml-data");
        assert!(decode_as::<ObjectCreated>(value).is_ok());
    }

    #[test]
    fn keys_are_not_url_decoded() {
        let mut value = moto_event();
        value["detail"]["object"]["key"] = json!("data/c++ files/a%20b.csv");
        let detail = decode_as::<ObjectCreated>(value).expect("decodes").detail;
        assert_eq!(detail.object.key, "data/c++ files/a%20b.csv");
        assert_eq!(detail.prefix(), "data/c++ files/");
    }

    #[test]
    fn root_keys_have_an_empty_prefix() {
        let mut value = moto_event();
        value["detail"]["object"]["key"] = json!("_SUCCESS");
        let detail = decode_as::<ObjectCreated>(value).expect("decodes").detail;
        assert_eq!(detail.prefix(), "");
        assert_eq!(detail.file_name(), "_SUCCESS");
    }
}
