//! The blob store that holds attached files' bytes: a directory of this
//! node, or an S3-compatible bucket that several nodes share. Both are
//! `object_store` stores behind [`BlobStore`], so handlers never know which.
//!
//! A blob is always written before the row that names it, and removed after
//! the row is gone: a failure in between leaves a blob without a row (which
//! a sweep may collect later), never a row without its blob.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload, WriteMultipart};

use crate::config::{BlobStoreKind, Config};

/// A blob being written; dropped without [`BlobWriter::finish`], nothing
/// is kept (call [`BlobWriter::abort`] to clean up at once).
#[async_trait]
pub trait BlobWriter: Send {
    async fn write(&mut self, chunk: Bytes) -> anyhow::Result<()>;
    async fn finish(self: Box<Self>) -> anyhow::Result<()>;
    async fn abort(self: Box<Self>);
}

/// A blob being read.
pub struct BlobReader {
    pub size: u64,
    pub stream: BoxStream<'static, anyhow::Result<Bytes>>,
}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Starts writing the blob `key`; it appears only once finished.
    async fn create(&self, key: &str) -> anyhow::Result<Box<dyn BlobWriter>>;
    /// Writes a small blob whole (a thumbnail).
    async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()>;
    /// `None` when there is no such blob.
    async fn open(&self, key: &str) -> anyhow::Result<Option<BlobReader>>;
    /// Removes the blob; removing a missing one is not an error.
    async fn delete(&self, key: &str) -> anyhow::Result<()>;
    /// The keys of every blob last written before `before`.
    fn list_before(&self, before: DateTime<Utc>) -> BoxStream<'static, anyhow::Result<String>>;
}

/// The key of a file's thumbnail (an image's, made on first request).
pub fn thumb_key(blob: &str) -> String {
    format!("thumbnails/{blob}.png")
}

/// The file a key belongs to: itself, or the file of a thumbnail.
pub fn owner(key: &str) -> &str {
    key.strip_prefix("thumbnails/")
        .and_then(|k| k.strip_suffix(".png"))
        .unwrap_or(key)
}

/// Removes a file's blob and its thumbnail, logging a failure: the blob is
/// then an orphan the sweep collects.
pub async fn remove_file(blobs: &dyn BlobStore, blob: &str) {
    for key in [blob.to_owned(), thumb_key(blob)] {
        if let Err(e) = blobs.delete(&key).await {
            tracing::warn!(error = %e, blob = key, "removing a blob failed; it is left orphaned");
        }
    }
}

/// The blob store the configuration names.
pub fn from_config(config: &Config) -> anyhow::Result<Arc<dyn BlobStore>> {
    let a = &config.attachments;
    let store: Arc<dyn ObjectStore> = match a.store {
        BlobStoreKind::Local => {
            let dir = config.attachments_dir();
            std::fs::create_dir_all(&dir).map_err(|e| {
                anyhow::anyhow!(
                    "cannot create the attachments directory {}: {e}",
                    dir.display()
                )
            })?;
            Arc::new(object_store::local::LocalFileSystem::new_with_prefix(&dir)?)
        }
        BlobStoreKind::S3 => {
            let bucket = a
                .s3_bucket
                .clone()
                .ok_or_else(|| anyhow::anyhow!("attachments.s3_bucket is not set"))?;
            // Credentials (and anything not configured here) from the
            // standard AWS_* variables.
            let mut b = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_allow_http(a.s3_allow_http);
            if let Some(endpoint) = &a.s3_endpoint {
                b = b.with_endpoint(endpoint);
            }
            if let Some(region) = &a.s3_region {
                b = b.with_region(region);
            }
            let s3 = b.build()?;
            match a.s3_prefix.as_deref().filter(|p| !p.is_empty()) {
                Some(prefix) => Arc::new(object_store::prefix::PrefixStore::new(s3, prefix)),
                None => Arc::new(s3),
            }
        }
    };
    Ok(Arc::new(ObjectBlobs { store }))
}

struct ObjectBlobs {
    store: Arc<dyn ObjectStore>,
}

struct ObjectWriter {
    upload: WriteMultipart,
}

/// Parts in flight at once: bounds an upload's memory to a few parts
/// (5 MiB each) however fast the client sends.
const PARTS_IN_FLIGHT: usize = 2;

#[async_trait]
impl BlobWriter for ObjectWriter {
    async fn write(&mut self, chunk: Bytes) -> anyhow::Result<()> {
        self.upload.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        self.upload.put(chunk);
        Ok(())
    }

    async fn finish(self: Box<Self>) -> anyhow::Result<()> {
        self.upload.finish().await?;
        Ok(())
    }

    async fn abort(self: Box<Self>) {
        if let Err(e) = self.upload.abort().await {
            tracing::warn!(error = %e, "aborting an unfinished upload failed");
        }
    }
}

#[async_trait]
impl BlobStore for ObjectBlobs {
    async fn create(&self, key: &str) -> anyhow::Result<Box<dyn BlobWriter>> {
        let upload = self.store.put_multipart(&Path::from(key)).await?;
        Ok(Box::new(ObjectWriter {
            upload: WriteMultipart::new(upload),
        }))
    }

    async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        self.store
            .put(&Path::from(key), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    async fn open(&self, key: &str) -> anyhow::Result<Option<BlobReader>> {
        match self.store.get(&Path::from(key)).await {
            Ok(got) => Ok(Some(BlobReader {
                size: got.meta.size,
                stream: got.into_stream().map(|c| c.map_err(Into::into)).boxed(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn list_before(&self, before: DateTime<Utc>) -> BoxStream<'static, anyhow::Result<String>> {
        self.store
            .list(None)
            .filter_map(move |m| async move {
                match m {
                    Ok(meta) if meta.last_modified < before => Some(Ok(meta.location.to_string())),
                    Ok(_) => None,
                    Err(e) => Some(Err(e.into())),
                }
            })
            .boxed()
    }
}
