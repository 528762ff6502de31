//! The write-ahead log: an append-only sequence of segment files in a
//! directory (etcd's `wal.WAL`). See the crate documentation for the format.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use raft::eraftpb::{Entry, HardState};

use crate::decoder::decode_segment_kinds;
use crate::encoder::Encoder;
use crate::error::{Corruption, StorageError};
use crate::files::create_dir;
use crate::fs::FileSystem;
use crate::lock::DirLock;
use crate::options::Options;
use crate::record::{Record, RecordKind, SnapshotMarker};
use crate::repair::truncate_torn_tail;
use crate::segment::{create_segment, list_segments, SegmentName, SegmentWriter};

/// What [`Wal::open_at`] read from the log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WalContents {
    /// The metadata the WAL was created with.
    pub metadata: Bytes,
    /// The last hard state saved.
    pub hard_state: HardState,
    /// The entries after the snapshot, with overwritten suffixes already
    /// replaced by what overwrote them.
    pub entries: Vec<Entry>,
}

/// An open write-ahead log. It holds the directory's lock until dropped.
///
/// After a failed write or fsync the log refuses every further write
/// ([`StorageError::Failed`]): what reached the disk is unknown, and only
/// reading the directory again can tell.
#[derive(Debug)]
pub struct Wal {
    fs: Arc<dyn FileSystem>,
    dir: PathBuf,
    segment_size: u64,
    metadata: Bytes,
    /// The live segments, oldest first; the last is `tail`.
    segments: Vec<SegmentName>,
    tail: SegmentWriter,
    encoder: Encoder,
    /// The index of the last entry written (or of the snapshot opened at).
    last_index: u64,
    /// The last hard state written, repeated at the head of each new segment.
    hard_state: HardState,
    /// The batches fsynced since the log was opened.
    syncs: u64,
    failed: bool,
    logger: slog::Logger,
    _lock: DirLock,
}

/// The end of a read of the segments.
struct ReadEnd {
    metadata: Bytes,
    /// The offset after the last good frame of the last segment.
    end: u64,
    /// The chain value there.
    crc: u32,
    /// Where the torn tail of the last segment starts, if it has one.
    torn: Option<u64>,
}

impl Wal {
    /// Whether `dir` holds a WAL (at least one segment).
    pub fn exists(fs: &dyn FileSystem, dir: &Path) -> Result<bool, StorageError> {
        match fs.list(dir) {
            Ok(names) => Ok(names.iter().any(|n| SegmentName::parse(n).is_some())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StorageError::io("list", dir, e)),
        }
    }

    /// Creates a WAL in `dir` (made if missing), whose first segment holds
    /// `options.metadata` and the marker of the empty snapshot.
    pub fn create(
        dir: &Path,
        options: &Options,
        logger: &slog::Logger,
    ) -> Result<Wal, StorageError> {
        let fs = options.file_system.clone();
        create_dir(&*fs, dir)?;
        let lock = DirLock::acquire(dir)?;
        if !list_segments(&*fs, dir)?.is_empty() {
            return Err(StorageError::WalExists { dir: dir.into() });
        }
        let mut encoder = Encoder::new(0);
        encoder.push_bytes(RecordKind::Crc, &0u32.to_le_bytes(), false)?;
        encoder.push_bytes(RecordKind::Metadata, &options.metadata, false)?;
        encoder.push_message(RecordKind::Snapshot, &SnapshotMarker::default(), true)?;
        let name = SegmentName {
            seq: 0,
            first_index: 0,
        };
        let tail = create_segment(&*fs, dir, name, encoder.bytes(), options.segment_size)?;
        encoder.clear();
        slog::info!(logger, "created WAL"; "dir" => %dir.display());
        Ok(Wal {
            fs,
            dir: dir.into(),
            segment_size: options.segment_size,
            metadata: options.metadata.clone(),
            segments: vec![name],
            tail,
            encoder,
            last_index: 0,
            hard_state: HardState::default(),
            syncs: 0,
            failed: false,
            logger: logger.clone(),
            _lock: lock,
        })
    }

    /// The snapshot markers of the WAL in `dir` that can be opened at: those
    /// covered by the last hard state's commit index (a marker past it
    /// belongs to a batch whose hard state never reached the disk). Reads
    /// the whole log; writes nothing.
    pub fn valid_snapshot_markers(
        dir: &Path,
        options: &Options,
    ) -> Result<Vec<SnapshotMarker>, StorageError> {
        let fs = &*options.file_system;
        let segments = list_segments(fs, dir)?;
        if segments.is_empty() {
            return Err(StorageError::NoWal { dir: dir.into() });
        }
        check_sequence(dir, &segments)?;
        let mut markers = Vec::new();
        let mut hard_state = HardState::default();
        read_segments(fs, dir, &segments, false, |_, _, record| {
            match record {
                Record::Snapshot(m) => markers.push(m),
                Record::HardState(hs) => hard_state = hs,
                _ => {}
            }
            Ok(())
        })?;
        markers.retain(|m| m.index <= hard_state.commit);
        Ok(markers)
    }

    /// Opens the WAL in `dir` for appending, after reading it from the
    /// snapshot `snapshot` on: the metadata, the last hard state and the
    /// entries after the snapshot. A torn tail is repaired (see [`crate::repair`]).
    ///
    /// Fails if the log holds no marker of `snapshot`, if the segments that
    /// reach back to it were released, or if the log is damaged.
    pub fn open_at(
        dir: &Path,
        snapshot: &SnapshotMarker,
        options: &Options,
        logger: &slog::Logger,
    ) -> Result<(Wal, WalContents), StorageError> {
        let fs = options.file_system.clone();
        let lock = DirLock::acquire(dir)?;
        let segments = list_segments(&*fs, dir)?;
        if segments.is_empty() {
            return Err(StorageError::NoWal { dir: dir.into() });
        }
        check_sequence(dir, &segments)?;
        // The newest segment that may hold entries up to the snapshot's.
        let start = segments
            .iter()
            .rposition(|s| s.first_index <= snapshot.index)
            .ok_or_else(|| StorageError::EntriesReleased {
                dir: dir.into(),
                oldest: segments[0].to_string(),
                index: snapshot.index,
            })?;
        let mut entries: Vec<Entry> = Vec::new();
        let mut hard_state = HardState::default();
        let mut found = false;
        let end = read_segments(
            &*fs,
            dir,
            &segments[start..],
            true,
            |path, offset, record| {
                match record {
                    Record::Entry(e) if e.index > snapshot.index => {
                        // Raft overwrites a log's suffix with a new leader's
                        // entries: the last write of an index wins, and the
                        // entries after it go.
                        let up = e.index - snapshot.index - 1;
                        if up > entries.len() as u64 {
                            let what = Corruption::EntryGap {
                                expected: snapshot.index + entries.len() as u64 + 1,
                                found: e.index,
                            };
                            return Err(StorageError::corrupt(path, offset, what));
                        }
                        entries.truncate(up as usize);
                        entries.push(e);
                    }
                    Record::HardState(hs) => hard_state = hs,
                    Record::Snapshot(m) if m.index == snapshot.index => {
                        if m.term != snapshot.term {
                            let what = Corruption::SnapshotTerm {
                                index: m.index,
                                expected: snapshot.term,
                                found: m.term,
                            };
                            return Err(StorageError::corrupt(path, offset, what));
                        }
                        found = true;
                    }
                    _ => {}
                }
                Ok(())
            },
        )?;
        if !found {
            return Err(StorageError::SnapshotNotFound {
                dir: dir.into(),
                index: snapshot.index,
                term: snapshot.term,
            });
        }

        let last = *segments.last().expect("at least one segment");
        let path = last.path(dir);
        let file = match end.torn {
            Some(offset) => {
                slog::warn!(logger, "WAL has a torn tail: cutting it off";
                    "file" => %path.display(), "offset" => offset);
                truncate_torn_tail(&*fs, &path, offset, options.segment_size)?
            }
            None => fs
                .open_write(&path)
                .map_err(|e| StorageError::io("open", &path, e))?,
        };
        let last_index = entries.last().map_or(snapshot.index, |e| e.index);
        slog::info!(logger, "opened WAL";
            "dir" => %dir.display(), "snapshot" => snapshot.index,
            "entries" => entries.len(), "last_index" => last_index);
        let wal = Wal {
            fs,
            dir: dir.into(),
            segment_size: options.segment_size,
            metadata: end.metadata.clone(),
            // The older ones too, though not read: release_to deletes them.
            segments,
            tail: SegmentWriter {
                name: last,
                path,
                file,
                offset: end.end,
            },
            encoder: Encoder::new(end.crc),
            last_index,
            hard_state,
            syncs: 0,
            failed: false,
            logger: logger.clone(),
            _lock: lock,
        };
        let contents = WalContents {
            metadata: end.metadata,
            hard_state,
            entries,
        };
        Ok((wal, contents))
    }

    /// Writes one batch (a hard state and entries) and fsyncs once.
    /// Nothing is written if both are empty.
    pub fn save(
        &mut self,
        hard_state: Option<&HardState>,
        entries: &[Entry],
    ) -> Result<(), StorageError> {
        self.save_batch(None, hard_state, entries, true)
    }

    /// Writes a snapshot marker and fsyncs: the snapshot's file must already
    /// be durable.
    pub fn save_snapshot(&mut self, marker: &SnapshotMarker) -> Result<(), StorageError> {
        self.save_batch(Some(marker), None, &[], true)
    }

    /// Writes a batch with one write: a snapshot marker, entries, then the
    /// hard state (in that order, so that a torn batch never keeps a hard
    /// state without the entries or marker before it), and fsyncs once if
    /// `sync`. Begins a new segment when the batch takes this one past the
    /// segment size.
    pub fn save_batch(
        &mut self,
        marker: Option<&SnapshotMarker>,
        hard_state: Option<&HardState>,
        entries: &[Entry],
        sync: bool,
    ) -> Result<(), StorageError> {
        if self.failed {
            return Err(StorageError::Failed {
                dir: self.dir.clone(),
            });
        }
        if marker.is_none() && hard_state.is_none() && entries.is_empty() {
            return Ok(());
        }
        self.check_follows(marker, entries)?;
        let crc = self.encoder.crc();
        if let Err(e) = self.encode_batch(marker, hard_state, entries) {
            // Nothing was written: forget the frames and the chain they made.
            self.encoder = Encoder::new(crc);
            return Err(e);
        }
        self.guard(|wal| {
            wal.tail.append(wal.encoder.bytes())?;
            if sync {
                wal.tail.sync()?;
                wal.syncs += 1;
            }
            Ok(())
        })?;
        if let Some(m) = marker {
            // A snapshot from a leader ahead of this log: the log now ends
            // at it.
            self.last_index = self.last_index.max(m.index);
        }
        if let Some(e) = entries.last() {
            self.last_index = e.index;
        }
        if let Some(hs) = hard_state {
            self.hard_state = *hs;
        }
        if self.tail.offset >= self.segment_size {
            self.guard(Wal::cut)?;
        }
        Ok(())
    }

    /// Refuses entries that would make the log unreadable: with a gap after
    /// what is written (or after the batch's snapshot), or not consecutive.
    fn check_follows(
        &self,
        marker: Option<&SnapshotMarker>,
        entries: &[Entry],
    ) -> Result<(), StorageError> {
        let Some(first) = entries.first() else {
            return Ok(());
        };
        let last = marker.map_or(self.last_index, |m| self.last_index.max(m.index));
        if first.index > last + 1 {
            return Err(StorageError::EntryGap {
                first: first.index,
                last,
            });
        }
        for pair in entries.windows(2) {
            if pair[1].index != pair[0].index + 1 {
                return Err(StorageError::EntryGap {
                    first: pair[1].index,
                    last: pair[0].index,
                });
            }
        }
        Ok(())
    }

    fn encode_batch(
        &mut self,
        marker: Option<&SnapshotMarker>,
        hard_state: Option<&HardState>,
        entries: &[Entry],
    ) -> Result<(), StorageError> {
        self.encoder.clear();
        if let Some(m) = marker {
            let end = entries.is_empty() && hard_state.is_none();
            self.encoder.push_message(RecordKind::Snapshot, m, end)?;
        }
        for (i, e) in entries.iter().enumerate() {
            let end = i + 1 == entries.len() && hard_state.is_none();
            self.encoder.push_message(RecordKind::Entry, e, end)?;
        }
        if let Some(hs) = hard_state {
            self.encoder.push_message(RecordKind::HardState, hs, true)?;
        }
        Ok(())
    }

    /// Runs a write; if it fails, the log is marked failed.
    fn guard(
        &mut self,
        f: impl FnOnce(&mut Wal) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let r = f(self);
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    /// Seals the current segment and begins the next one, which opens with
    /// the chain value, the metadata and the current hard state.
    fn cut(&mut self) -> Result<(), StorageError> {
        self.tail.seal()?;
        let name = SegmentName {
            seq: self.tail.name.seq + 1,
            first_index: self.last_index + 1,
        };
        self.encoder.clear();
        let crc = self.encoder.crc();
        self.encoder
            .push_bytes(RecordKind::Crc, &crc.to_le_bytes(), false)?;
        self.encoder
            .push_bytes(RecordKind::Metadata, &self.metadata, false)?;
        self.encoder
            .push_message(RecordKind::HardState, &self.hard_state, true)?;
        self.tail = create_segment(
            &*self.fs,
            &self.dir,
            name,
            self.encoder.bytes(),
            self.segment_size,
        )?;
        self.encoder.clear();
        self.segments.push(name);
        slog::debug!(self.logger, "began WAL segment"; "segment" => %name);
        Ok(())
    }

    /// Deletes the segments that only hold entries a snapshot at `index`
    /// covers (etcd's `ReleaseLockTo`): every segment before the newest one
    /// that begins at or below `index`. The segment being written is never
    /// deleted.
    pub fn release_to(&mut self, index: u64) -> Result<(), StorageError> {
        let keep_from = match self.segments.iter().position(|s| s.first_index >= index) {
            Some(i) => i.saturating_sub(1),
            None => self.segments.len() - 1,
        };
        if keep_from == 0 {
            return Ok(());
        }
        // Oldest first, so that a crash midway leaves consecutive segments.
        for _ in 0..keep_from {
            let path = self.segments[0].path(&self.dir);
            self.fs
                .remove_file(&path)
                .map_err(|e| StorageError::io("remove", &path, e))?;
            self.segments.remove(0);
        }
        self.fs
            .sync_dir(&self.dir)
            .map_err(|e| StorageError::io("fsync", &self.dir, e))?;
        slog::debug!(self.logger, "released WAL segments"; "count" => keep_from, "index" => index);
        Ok(())
    }

    /// The index of the last entry written.
    pub fn last_index(&self) -> u64 {
        self.last_index
    }

    /// The last hard state written.
    pub fn hard_state(&self) -> HardState {
        self.hard_state
    }

    /// How many batches were fsynced since the log was opened (one per
    /// synced [`Wal::save_batch`]; a Ready that must sync costs one). For
    /// operators and benchmarks: writes per fsync tell how well batching
    /// works.
    pub fn syncs(&self) -> u64 {
        self.syncs
    }

    /// The segment being written, and the offset in it where the next batch
    /// goes.
    pub fn position(&self) -> (SegmentName, u64) {
        (self.tail.name, self.tail.offset)
    }

    /// The live segments, oldest first.
    pub fn segments(&self) -> &[SegmentName] {
        &self.segments
    }

    /// The WAL's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The metadata the WAL was created with.
    pub fn metadata(&self) -> &Bytes {
        &self.metadata
    }
}

/// Checks that segment sequence numbers are consecutive.
fn check_sequence(dir: &Path, segments: &[SegmentName]) -> Result<(), StorageError> {
    for pair in segments.windows(2) {
        if pair[1].seq != pair[0].seq + 1 {
            return Err(StorageError::SegmentMissing {
                dir: dir.into(),
                expected: pair[0].seq + 1,
                found: pair[1].to_string(),
            });
        }
    }
    Ok(())
}

/// Reads `segments` in order, checking the chain from one to the next and
/// that each opens with a crc record and the same metadata, and gives every
/// other record to `visit` with its file and offset (entries only if
/// `entries`: they are checked, not decoded, otherwise). A failure is an
/// error, except a torn tail of the last segment, which ends the read.
fn read_segments(
    fs: &dyn FileSystem,
    dir: &Path,
    segments: &[SegmentName],
    entries: bool,
    mut visit: impl FnMut(&Path, u64, Record) -> Result<(), StorageError>,
) -> Result<ReadEnd, StorageError> {
    let mut metadata: Option<Bytes> = None;
    let mut prev_crc: Option<u32> = None;
    let mut end = ReadEnd {
        metadata: Bytes::new(),
        end: 0,
        crc: 0,
        torn: None,
    };
    for (i, seg) in segments.iter().enumerate() {
        let path = seg.path(dir);
        let bytes = fs
            .read(&path)
            .map_err(|e| StorageError::io("read", &path, e))?;
        let decoded = decode_segment_kinds(&bytes, |k| entries || k != RecordKind::Entry);
        let mut seen_metadata = false;
        for (n, (offset, record)) in decoded.records.into_iter().enumerate() {
            match (n, record) {
                (0, Record::Crc(value)) => {
                    if let Some(expected) = prev_crc.filter(|&c| c != value) {
                        let what = Corruption::ChainBreak {
                            expected,
                            found: value,
                        };
                        return Err(StorageError::corrupt(&path, offset, what));
                    }
                }
                (1, Record::Metadata(m)) => {
                    match &metadata {
                        Some(first) if *first != m => {
                            return Err(StorageError::corrupt(
                                &path,
                                offset,
                                Corruption::MetadataMismatch,
                            ));
                        }
                        Some(_) => {}
                        None => metadata = Some(m),
                    }
                    seen_metadata = true;
                }
                (1, _) => return Err(StorageError::corrupt(&path, offset, Corruption::NoMetadata)),
                (_, r @ (Record::Crc(_) | Record::Metadata(_))) => {
                    let what = Corruption::Misplaced { kind: r.kind() };
                    return Err(StorageError::corrupt(&path, offset, what));
                }
                (_, record) => visit(&path, offset, record)?,
            }
        }
        let last = i + 1 == segments.len();
        if let Some(e) = decoded.error {
            if !(last && e.torn) {
                return Err(StorageError::corrupt(&path, e.offset, e.what));
            }
            // Cut at the start of the torn batch, which may begin before
            // the frame that failed.
            end.torn = Some(decoded.end);
        }
        if !seen_metadata {
            // Segments are fsynced before they are renamed into place, so
            // even the last one always has its head.
            return Err(StorageError::corrupt(
                &path,
                decoded.end,
                Corruption::NoMetadata,
            ));
        }
        prev_crc = Some(decoded.crc);
        end.end = decoded.end;
        end.crc = decoded.crc;
    }
    end.metadata = metadata.unwrap_or_default();
    Ok(end)
}
