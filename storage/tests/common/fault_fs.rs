//! A file system that does every operation for real, in a real directory,
//! while keeping a model of what is durable; it can fail an operation (the
//! process "crashes" there: that and every later operation fail) and then
//! rewrite the directory as a power loss at that moment could have left it:
//! - a file's data survives up to its last fsync, plus a random prefix of
//!   the writes (and truncations, preallocations) done after it, the last of
//!   them possibly cut at any byte;
//! - a directory's entries (creations, renames, deletions) survive up to its
//!   last fsync, plus a random prefix of the changes made after it.
//!
//! Directories themselves are taken as durable once created (the code under
//! test fsyncs the parent of every directory it creates).

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use etcdraft_storage::{FileSystem, FsFile, RealFs};
use rand::rngs::StdRng;
use rand::Rng;

/// A change of a file's contents not yet made durable.
#[derive(Clone, Debug)]
enum DataOp {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
    Allocate(u64),
}

impl DataOp {
    fn apply(&self, content: &mut Vec<u8>) {
        match self {
            DataOp::Write { offset, data } => write_at(content, *offset, data),
            DataOp::SetLen(n) => content.resize(*n as usize, 0),
            DataOp::Allocate(n) => {
                if content.len() < *n as usize {
                    content.resize(*n as usize, 0);
                }
            }
        }
    }
}

fn write_at(content: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let end = offset as usize + data.len();
    if content.len() < end {
        content.resize(end, 0);
    }
    content[offset as usize..end].copy_from_slice(data);
}

/// A change of a directory's entries not yet made durable.
#[derive(Clone, Debug)]
enum DirOp {
    Link(PathBuf, u64),
    Unlink(PathBuf),
    Rename(PathBuf, PathBuf),
}

#[derive(Debug, Default)]
struct Inode {
    durable: Vec<u8>,
    pending: Vec<DataOp>,
}

#[derive(Debug, Default)]
struct Model {
    /// Mutating operations done so far.
    ops: u64,
    /// How many of each kind ("write", "sync", ...) were done.
    counts: HashMap<&'static str, u64>,
    /// Fail the operation with this number, and every one after it.
    crash_at: Option<u64>,
    crashed: bool,
    inodes: HashMap<u64, Inode>,
    next_inode: u64,
    /// The current names (what the real directory shows).
    names: HashMap<PathBuf, u64>,
    /// The names as of each directory's last fsync.
    durable_names: HashMap<PathBuf, u64>,
    /// Per directory, its changes since its last fsync, in order.
    pending_dirs: HashMap<PathBuf, Vec<DirOp>>,
}

impl Model {
    /// Counts an operation of `kind`, or fails it if the crash has come.
    fn op(&mut self, kind: &'static str) -> io::Result<()> {
        if self.crashed || self.crash_at == Some(self.ops) {
            self.crashed = true;
            return Err(io::Error::other("injected crash"));
        }
        self.ops += 1;
        *self.counts.entry(kind).or_default() += 1;
        Ok(())
    }

    fn dir_op(&mut self, path: &Path, op: DirOp) {
        let dir = path.parent().unwrap().to_path_buf();
        self.pending_dirs.entry(dir).or_default().push(op);
    }
}

/// The fault-injecting file system; clones share one model.
#[derive(Clone)]
pub struct FaultFs {
    root: PathBuf,
    model: Arc<Mutex<Model>>,
}

impl fmt::Debug for FaultFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultFs({})", self.root.display())
    }
}

impl FaultFs {
    /// Takes over `root`: the files in it now are durable. The crash comes
    /// at operation number `crash_at` (counted from 0), if given.
    pub fn new(root: &Path, crash_at: Option<u64>) -> FaultFs {
        let mut model = Model {
            crash_at,
            ..Model::default()
        };
        for path in files_under(root) {
            let id = model.next_inode;
            model.next_inode += 1;
            let durable = std::fs::read(&path).unwrap();
            model.inodes.insert(
                id,
                Inode {
                    durable,
                    pending: Vec::new(),
                },
            );
            model.names.insert(path.clone(), id);
            model.durable_names.insert(path, id);
        }
        FaultFs {
            root: root.to_path_buf(),
            model: Arc::new(Mutex::new(model)),
        }
    }

    /// How many mutating operations were done (the crash points there are).
    pub fn ops(&self) -> u64 {
        self.model.lock().unwrap().ops
    }

    /// How many operations of `kind` were done: "create", "write",
    /// "sync", "truncate", "allocate", "rename", "remove", "mkdir",
    /// "sync dir".
    pub fn count(&self, kind: &str) -> u64 {
        self.model
            .lock()
            .unwrap()
            .counts
            .get(kind)
            .copied()
            .unwrap_or(0)
    }

    /// Whether the injected crash happened.
    pub fn crashed(&self) -> bool {
        self.model.lock().unwrap().crashed
    }

    /// Rewrites the real directory as a power loss now could have left it.
    /// Every handle must be dropped first.
    pub fn power_loss(&self, rng: &mut StdRng) {
        let mut m = self.model.lock().unwrap();
        m.crashed = true;
        // Each directory keeps a random prefix of its unsynced changes.
        let mut names = m.durable_names.clone();
        let mut dirs: Vec<_> = m.pending_dirs.keys().cloned().collect();
        dirs.sort();
        for dir in dirs {
            let ops = &m.pending_dirs[&dir];
            let keep = rng.random_range(0..=ops.len());
            for op in &ops[..keep] {
                match op {
                    DirOp::Link(p, id) => {
                        names.insert(p.clone(), *id);
                    }
                    DirOp::Unlink(p) => {
                        names.remove(p);
                    }
                    DirOp::Rename(from, to) => {
                        if let Some(id) = names.remove(from) {
                            names.insert(to.clone(), id);
                        }
                    }
                }
            }
        }
        // Each file keeps its durable data and a random prefix of the rest.
        let mut contents: HashMap<u64, Vec<u8>> = HashMap::new();
        for (&id, inode) in &m.inodes {
            let mut content = inode.durable.clone();
            let keep = rng.random_range(0..=inode.pending.len());
            for op in &inode.pending[..keep] {
                op.apply(&mut content);
            }
            if let Some(DataOp::Write { offset, data }) = inode.pending.get(keep) {
                let part = rng.random_range(0..=data.len());
                write_at(&mut content, *offset, &data[..part]);
            }
            contents.insert(id, content);
        }
        for path in files_under(&self.root) {
            std::fs::remove_file(path).unwrap();
        }
        for (path, id) in &names {
            std::fs::write(path, &contents[id]).unwrap();
        }
    }
}

/// The regular files under `root`, lock files left out (they hold no data
/// and belong to no model).
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in read {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n != "LOCK") {
                out.push(path);
            }
        }
    }
    out
}

impl FileSystem for FaultFs {
    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let mut m = self.model.lock().unwrap();
        m.op("create")?;
        let real = RealFs.create_new(path)?;
        let id = m.next_inode;
        m.next_inode += 1;
        m.inodes.insert(id, Inode::default());
        m.names.insert(path.to_path_buf(), id);
        m.dir_op(path, DirOp::Link(path.to_path_buf(), id));
        Ok(Box::new(FaultFile {
            model: self.model.clone(),
            id,
            real,
        }))
    }

    fn open_write(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let m = self.model.lock().unwrap();
        if m.crashed {
            return Err(io::Error::other("injected crash"));
        }
        let id = *m
            .names
            .get(path)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not in the model"))?;
        let real = RealFs.open_write(path)?;
        Ok(Box::new(FaultFile {
            model: self.model.clone(),
            id,
            real,
        }))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        RealFs.read(path)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        RealFs.list(dir)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut m = self.model.lock().unwrap();
        m.op("rename")?;
        RealFs.rename(from, to)?;
        let id = m.names.remove(from).expect("renaming a file of the model");
        m.names.insert(to.to_path_buf(), id);
        assert_eq!(from.parent(), to.parent(), "renames stay in one directory");
        m.dir_op(to, DirOp::Rename(from.to_path_buf(), to.to_path_buf()));
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut m = self.model.lock().unwrap();
        m.op("remove")?;
        RealFs.remove_file(path)?;
        m.names.remove(path);
        m.dir_op(path, DirOp::Unlink(path.to_path_buf()));
        Ok(())
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.model.lock().unwrap().op("mkdir")?;
        RealFs.create_dir_all(dir)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut m = self.model.lock().unwrap();
        m.op("sync dir")?;
        RealFs.sync_dir(dir)?;
        let ops = m.pending_dirs.remove(dir).unwrap_or_default();
        for op in ops {
            match op {
                DirOp::Link(p, id) => {
                    m.durable_names.insert(p, id);
                }
                DirOp::Unlink(p) => {
                    m.durable_names.remove(&p);
                }
                DirOp::Rename(from, to) => {
                    if let Some(id) = m.durable_names.remove(&from) {
                        m.durable_names.insert(to, id);
                    }
                }
            }
        }
        Ok(())
    }
}

/// A file of the model.
struct FaultFile {
    model: Arc<Mutex<Model>>,
    id: u64,
    real: Box<dyn FsFile>,
}

impl fmt::Debug for FaultFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultFile({})", self.id)
    }
}

impl FaultFile {
    fn change(
        &mut self,
        op: DataOp,
        real: impl FnOnce(&mut dyn FsFile) -> io::Result<()>,
    ) -> io::Result<()> {
        let kind = match op {
            DataOp::Write { .. } => "write",
            DataOp::SetLen(_) => "truncate",
            DataOp::Allocate(_) => "allocate",
        };
        let mut m = self.model.lock().unwrap();
        m.op(kind)?;
        real(&mut *self.real)?;
        m.inodes.get_mut(&self.id).unwrap().pending.push(op);
        Ok(())
    }

    fn sync(&mut self, real: impl FnOnce(&mut dyn FsFile) -> io::Result<()>) -> io::Result<()> {
        let mut m = self.model.lock().unwrap();
        m.op("sync")?;
        real(&mut *self.real)?;
        let inode = m.inodes.get_mut(&self.id).unwrap();
        for op in std::mem::take(&mut inode.pending) {
            op.apply(&mut inode.durable);
        }
        Ok(())
    }
}

impl FsFile for FaultFile {
    fn write_all_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        let op = DataOp::Write {
            offset,
            data: buf.to_vec(),
        };
        self.change(op, |f| f.write_all_at(buf, offset))
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.sync(|f| f.sync_data())
    }

    fn sync_all(&mut self) -> io::Result<()> {
        self.sync(|f| f.sync_all())
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.change(DataOp::SetLen(len), |f| f.set_len(len))
    }

    fn allocate(&mut self, len: u64) -> io::Result<()> {
        self.change(DataOp::Allocate(len), |f| f.allocate(len))
    }
}
