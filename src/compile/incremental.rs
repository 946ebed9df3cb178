//! A compile against the render cache of an output directory, as `strata render` runs it.
//!
//! The cache is read on a thread of its own while the compile loads, merges and hashes the
//! source, which do not need it. The same thread then looks at every output file the cache
//! lists while the compile goes on, off its path: when some cluster's files are no longer on
//! disk as recorded (deleted, or edited to another size), the compile runs again without that
//! cluster's record, and so renders it. Checking first, before the cache is used, would hold
//! up a small change by the time all those looks take.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::cache::Cache;
use crate::cache::store::Store;
use crate::diag::Failure;
use crate::object::RenderedObject;
use crate::world::World;

use super::{Compiled, LoadCache, Options, Selection, compile_with};

/// What the render cache did for a compile.
#[derive(Debug, Default)]
pub(crate) struct CacheUse {
    /// How long reading the index took, and looking at the output files it lists; `None` for
    /// a partial compile, which uses no cache.
    pub(crate) read: Option<(Duration, Duration)>,
    /// Whether the cache the compile leaves differs from the one it used: it is worth saving.
    pub(crate) changed: bool,
}

/// Compiles `selection` of `world` with what the cache in `store` gives. `options` says which
/// strata is compiling, and may carry the progress and the vouched files; the cache and the
/// cached objects are the store's. A partial selection neither reads nor trusts the cache.
pub(crate) fn compile_with_store(
    world: &dyn World,
    selection: &Selection,
    store: &Store,
    options: &Options<'_>,
) -> (Result<Compiled, Failure>, CacheUse) {
    let (send, parsed) = std::sync::mpsc::sync_channel::<Option<Arc<Cache>>>(1);
    let checking = (!selection.is_partial()).then(|| {
        let store = store.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let cache = store.read_index().map(Arc::new);
            let read = started.elapsed();
            // The compile may have failed and gone before it asked.
            let _ = send.send(cache.clone());
            let started = Instant::now();
            let gone = cache.map_or_else(Vec::new, |c| store.clusters_gone(&c));
            (gone, read, started.elapsed())
        })
    });
    let parsed = Mutex::new(parsed);
    let read: OnceLock<Option<Arc<Cache>>> = OnceLock::new();
    let last_cache = || {
        read.get_or_init(|| parsed.lock().ok()?.recv().ok().flatten())
            .as_deref()
    };
    let compile_from = |cache: &LoadCache<'_>| {
        // The same cache, for as long as this compile borrows it.
        let cache: &LoadCache<'_> = &|| cache();
        let objects =
            |cluster: &str| -> Option<Vec<RenderedObject>> { store.objects(cache()?, cluster) };
        let options = Options {
            build: options.build.clone(),
            cache: Some(cache),
            cached_objects: Some(&objects),
            progress: options.progress,
            vouched: options.vouched,
            keep_objects: options.keep_objects,
            past_policy: options.past_policy,
            write: options.write,
        };
        compile_with(world, selection, &options)
    };
    let first = compile_from(&last_cache);
    let checked = checking.map(|thread| thread.join());
    let mut used = CacheUse::default();
    if let Some(Ok((_, read, check))) = &checked {
        used.read = Some((*read, *check));
    }
    // The cache as far as the output on disk bears it out.
    let mut kept: Option<Cache> = None;
    let trusted = match checked {
        None => true,
        Some(Ok((gone, ..))) if gone.is_empty() => true,
        Some(Ok((gone, ..))) => {
            kept = last_cache().map(|c| {
                let mut c = c.clone();
                for name in &gone {
                    c.clusters.remove(name);
                }
                c
            });
            false
        }
        // The check did not finish: nothing on disk is known to be as recorded.
        Some(Err(_)) => false,
    };
    let compiled = if trusted {
        first
    } else {
        drop(first);
        compile_from(&|| kept.as_ref())
    };
    let cache = if trusted { last_cache() } else { kept.as_ref() };
    if let Ok(c) = &compiled {
        used.changed = cache != Some(&c.cache);
    }
    (compiled, used)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::testing;

    fn options() -> Options<'static> {
        Options {
            build: "test".into(),
            ..Options::default()
        }
    }

    /// Compiles `world` with the cache in `out`, writes the output and saves the cache, as
    /// `strata render` does.
    fn render(world: &dyn World, out: &std::path::Path) -> (Compiled, CacheUse) {
        let store = Store::new(out);
        let (compiled, used) = compile_with_store(world, &Selection::default(), &store, &options());
        let compiled = compiled.expect("compiles");
        crate::output::claim(out)
            .and_then(|c| c.write_tree(&compiled.tree, &compiled.owned, None))
            .expect("writes");
        store
            .write_index(&compiled.cache)
            .and_then(|w| w.finish())
            .expect("saves");
        (compiled, used)
    }

    fn names(set: &BTreeSet<String>) -> Vec<&str> {
        set.iter().map(String::as_str).collect()
    }

    #[test]
    fn a_compile_with_the_cache_of_the_last_render_reuses_every_unchanged_cluster() {
        let world = testing::platform();
        let out = tempfile::tempdir().expect("tempdir");
        let (first, used) = render(&world, out.path());
        assert!(first.reused.is_empty());
        assert!(used.read.is_some(), "a full compile reads the cache");
        assert!(used.changed, "there was no cache");

        let (second, used) = render(&world, out.path());
        assert_eq!(
            names(&second.reused),
            ["dev-sto2-workload", "prod-sto2-workload"]
        );
        assert!(!used.changed);
        // Only the environments' Argo CD objects are made again.
        let files: Vec<&str> = second.tree.files.keys().map(String::as_str).collect();
        assert_eq!(
            files,
            [
                "dev/argocd/project.yaml",
                "dev/argocd/root.yaml",
                "prod/argocd/project.yaml",
                "prod/argocd/root.yaml"
            ]
        );
        assert_eq!(second.objects, first.objects);
    }

    #[test]
    fn a_cluster_whose_output_file_is_gone_is_rendered_again() {
        let world = testing::platform();
        let out = tempfile::tempdir().expect("tempdir");
        render(&world, out.path());
        std::fs::remove_file(
            out.path()
                .join("prod/sto2/workload/web/deployment-web.yaml"),
        )
        .expect("remove");
        let (again, used) = render(&world, out.path());
        assert_eq!(names(&again.reused), ["dev-sto2-workload"]);
        assert!(
            again
                .tree
                .files
                .contains_key("prod/sto2/workload/web/deployment-web.yaml")
        );
        assert!(used.changed, "the cache it used no longer held the cluster");
        assert!(
            out.path()
                .join("prod/sto2/workload/web/deployment-web.yaml")
                .is_file()
        );
    }

    #[test]
    fn a_partial_compile_neither_reads_nor_trusts_the_cache() {
        let world = testing::platform();
        let out = tempfile::tempdir().expect("tempdir");
        render(&world, out.path());
        let selection = Selection {
            environment: Some("prod".into()),
            ..Selection::default()
        };
        let (compiled, used) =
            compile_with_store(&world, &selection, &Store::new(out.path()), &options());
        let compiled = compiled.expect("compiles");
        assert!(used.read.is_none());
        assert!(compiled.reused.is_empty());
        assert_eq!(
            compiled.owned,
            [
                "prod/sto2/workload/",
                "prod/argocd/apps/sto2-workload-web.yaml",
                "prod/"
            ]
        );
    }

    #[test]
    fn a_compile_that_hands_over_each_cluster_keeps_only_the_environments_files() {
        let world = testing::platform();
        let whole = super::super::compile(&world, &Selection::default()).expect("compiles");
        let handed = Mutex::new(Vec::new());
        let write = |tree: crate::emit::OutputTree, _| handed.lock().expect("lock").push(tree);
        let options = Options {
            write: Some(&write),
            ..Options::default()
        };
        let streamed = compile_with(&world, &Selection::default(), &options).expect("compiles");
        let mut handed = handed.into_inner().expect("lock");
        handed.sort_by(|a, b| a.files.keys().next().cmp(&b.files.keys().next()));
        let first: Vec<&str> = handed
            .iter()
            .filter_map(|t| t.files.keys().next().map(String::as_str))
            .collect();
        assert_eq!(
            first,
            [
                "dev/argocd/apps/sto2-workload-web.yaml",
                "prod/argocd/apps/sto2-workload-web.yaml"
            ],
            "one tree a cluster"
        );
        let kept: Vec<&str> = streamed.tree.files.keys().map(String::as_str).collect();
        assert_eq!(
            kept,
            [
                "dev/argocd/project.yaml",
                "dev/argocd/root.yaml",
                "prod/argocd/project.yaml",
                "prod/argocd/root.yaml"
            ]
        );
        assert_eq!(streamed.written_files, whole.tree.files.len() - kept.len());
        let mut together = streamed.tree.clone();
        for tree in handed {
            together.files.extend(tree.files);
        }
        assert_eq!(together, whole.tree);
    }

    #[test]
    fn the_compile_keeps_the_rendered_objects_when_asked() {
        let world = testing::platform();
        let options = Options {
            keep_objects: true,
            ..Options::default()
        };
        let compiled =
            super::super::compile_with(&world, &Selection::default(), &options).expect("compiles");
        let files: Vec<&str> = compiled.rendered.iter().map(|o| o.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "dev/sto2/workload/web/deployment-web.yaml",
                "dev/sto2/workload/web/configmap-web-dev.yaml",
                "prod/sto2/workload/web/deployment-web.yaml",
                "prod/sto2/workload/web/configmap-web-prod.yaml"
            ]
        );
        for o in &compiled.rendered {
            let written: serde_json::Value =
                yaml_serde::from_slice(&compiled.tree.files[&o.file]).expect("yaml");
            assert_eq!(written, o.object, "{}", o.file);
        }
        let without = crate::compile::compile(&world, &Selection::default()).expect("compiles");
        assert!(without.rendered.is_empty());
    }

    #[test]
    fn a_streaming_compile_keeps_no_cluster_values_and_hands_over_the_files_of_a_kept_tree() {
        let world = testing::platform();
        let kept = crate::compile::compile(&world, &Selection::default()).expect("compiles");
        let handed = Mutex::new(std::collections::BTreeMap::new());
        let write = |tree: crate::emit::OutputTree, _| {
            handed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend(tree.files);
        };
        let streamed = crate::compile::compile_with(
            &world,
            &Selection::default(),
            &Options {
                build: "test".into(),
                write: Some(&write),
                ..Options::default()
            },
        )
        .expect("compiles");
        let mut files = handed.into_inner().expect("not poisoned");
        files.extend(streamed.tree.files.clone());
        assert_eq!(files, kept.tree.files);
        assert_eq!(streamed.violations, kept.violations);
        assert!(kept.all.iter().any(|c| {
            c.enabled()
                .any(|(_, v)| v.map().is_some_and(|m| !m.is_empty()))
        }));
        for c in &streamed.all {
            for (name, values) in c.enabled() {
                assert!(
                    values.map().is_some_and(|m| m.is_empty()),
                    "{} still holds the values of {name}",
                    c.name
                );
            }
        }
    }
}
