//! A project's index data on disk: opening it to read, opening (creating)
//! it to write with a model, and wiping it for a forced rebuild.

use mvs_store::Store;

use crate::project::Project;
use crate::{IndexError, run_record};

/// Opens a project's index for reading. Errors: [`IndexError::NotIndexed`]
/// when it has none yet.
pub async fn open_index(project: &Project) -> Result<Store, IndexError> {
    Store::open_existing(project.index_dir())
        .await?
        .ok_or_else(|| IndexError::NotIndexed(project.root().to_path_buf()))
}

/// Opens the project's store for vectors of `model_id` (`dimension`
/// floats), creating the index directory and the store as needed.
pub(crate) async fn open_store_for(project: &Project, model_id: &str, dimension: usize) -> Result<Store, IndexError> {
    project.ensure_index_dir()?;
    Ok(Store::open(project.index_dir(), model_id, dimension).await?)
}

/// Deletes the index data and the last run's report (not the directory,
/// its `.gitignore` or the lock).
pub(crate) fn wipe_index(project: &Project) -> Result<(), IndexError> {
    Store::remove(project.index_dir())?;
    let report = project.index_dir().join(run_record::FILE_NAME);
    match std::fs::remove_file(&report) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(IndexError::Io {
            path: report,
            source: err,
        }),
        _ => Ok(()),
    }
}
