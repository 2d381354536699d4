//! A project's index data on disk: opening it to read, and opening
//! (creating, or rebuilding beside the live one) it to write with a model.

use mvs_store::Store;

use crate::IndexError;
use crate::project::Project;

/// Opens a project's index for reading: the local one, else the published
/// generation of its shared index ([`Project::shared`]). Errors:
/// [`IndexError::NotIndexed`] when it has neither yet.
pub async fn open_index(project: &Project) -> Result<Store, IndexError> {
    if let Some(store) = Store::open_existing(project.index_dir()).await? {
        return Ok(store);
    }
    if let Some(shared) = project.shared()
        && let Some(store) = shared.open_reader().await?
    {
        return Ok(store);
    }
    Err(IndexError::NotIndexed(project.root().to_path_buf()))
}

/// Opens the project's store for vectors of `model_id` (`dimension`
/// floats), creating the index directory and the store as needed; with
/// `rebuild`, empty tables beside the live index (see [`Store::rebuild`]).
pub(crate) async fn open_store_for(
    project: &Project,
    model_id: &str,
    dimension: usize,
    rebuild: bool,
) -> Result<Store, IndexError> {
    project.ensure_index_dir()?;
    let dir = project.index_dir();
    Ok(if rebuild {
        Store::rebuild(dir, model_id, dimension).await?
    } else {
        Store::open(dir, model_id, dimension).await?
    })
}
