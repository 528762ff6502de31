//! Read-index requests on the leader (the read-only parts of etcd's
//! `raft.go`).

use super::{Raft, NONE};
use crate::eraftpb::{Message, MessageType};
use crate::read_only::{ReadOnlyOption, ReadState};
use crate::storage::Storage;

impl<S: Storage> Raft<S> {
    /// The leader's handling of `MsgReadIndex`.
    ///
    /// Unlike etcd, the only voter does not answer before it has committed
    /// an entry of its term, and a leader that is not the only voter (a
    /// demoted or removed leader of a one-voter group) does not answer on
    /// its own: the simulator found both answering below an index committed
    /// before the read was issued (`testdata/interaction/sim_read_*.txt`).
    pub(super) fn leader_read_index(&mut self, m: Message) {
        // Until this leader commits an entry of its term, its commit index
        // may be behind the group's (or, for the only voter restarted with
        // asynchronous storage writes, behind what it committed before):
        // hold the request until then.
        if !self.committed_entry_in_current_term() {
            self.pending_read_index_messages.push(m);
            return;
        }
        self.send_read_index_response(m);
    }

    /// Whether this node has committed an entry of its current term.
    pub fn committed_entry_in_current_term(&self) -> bool {
        // A leader's term is never 0, so an out-of-bounds 0 never matches.
        self.raft_log
            .zero_term_on_out_of_bounds(self.raft_log.term(self.raft_log.committed))
            == self.term
    }

    /// The answer to read request `req` at `read_index` (etcd
    /// `responseToReadIndexReq`): a request of this node itself becomes a
    /// [`ReadState`] right away and `None` is returned; a follower's gets a
    /// `MsgReadIndexResp`.
    pub fn response_to_read_index_req(
        &mut self,
        mut req: Message,
        read_index: u64,
    ) -> Option<Message> {
        if req.from == NONE || req.from == self.id {
            // A read-index request carries its context in its one entry; a
            // malformed one (no entry, say from a peer with no id) gets an
            // empty context rather than a panic.
            let request_ctx = req
                .entries
                .first_mut()
                .map(|e| std::mem::take(&mut e.data))
                .unwrap_or_default();
            self.read_states.push(ReadState {
                index: read_index,
                request_ctx,
            });
            return None;
        }
        let mut resp = Message::new(MessageType::MsgReadIndexResp);
        resp.to = req.from;
        resp.index = read_index;
        resp.entries = std::mem::take(&mut req.entries);
        Some(resp)
    }

    /// Serves the read requests that waited for the first commit of this
    /// leader's term (etcd `releasePendingReadIndexMessages`).
    pub fn release_pending_read_index_messages(&mut self) {
        if self.pending_read_index_messages.is_empty() {
            // The common case: skip the term lookup.
            return;
        }
        if !self.committed_entry_in_current_term() {
            slog::error!(
                self.raft_log.logger,
                "pending MsgReadIndex should be released only after first commit in current term"
            );
            return;
        }
        let msgs = self.pending_read_index_messages.take();
        for m in msgs {
            self.send_read_index_response(m);
        }
    }

    /// Starts confirming read request `m` (safe reads: a heartbeat round) or
    /// answers it from the lease (etcd `sendMsgReadIndexResponse`).
    pub fn send_read_index_response(&mut self, m: Message) {
        // The only voter needs nobody's confirmation; a leader that is not
        // that voter cannot confirm anything and goes the long way, where
        // the voter's acknowledgement never comes.
        if self.trk.is_singleton() && self.trk.config.voters[0].contains(self.id) {
            let committed = self.raft_log.committed;
            if let Some(resp) = self.response_to_read_index_req(m, committed) {
                self.send(resp);
            }
            return;
        }
        match self.read_only_option {
            ReadOnlyOption::Safe => {
                self.read_only.add_request(self.raft_log.committed, m);
                // This node acknowledges its own heartbeat round at once.
                let ctx = self.read_only.heartbeat_ctx();
                self.read_only.recv_ack(self.id, &ctx);
                self.bcast_heartbeat();
            }
            ReadOnlyOption::LeaseBased => {
                let committed = self.raft_log.committed;
                if let Some(resp) = self.response_to_read_index_req(m, committed) {
                    self.send(resp);
                }
            }
        }
    }
}
