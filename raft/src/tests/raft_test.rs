//! Port of etcd's `raft_test.go`: the raft state machine driven directly
//! and through the test [`Network`].

use std::panic::{catch_unwind, AssertUnwindSafe};

use bytes::Bytes;
use prost::Message as _;

use super::support::*;
use crate::config::Config;
use crate::eraftpb::MessageType::*;
use crate::eraftpb::{
    ConfChange, ConfChangeSingle, ConfChangeType, ConfChangeV2, ConfState, Entry, EntryType,
    HardState, Message, MessageType,
};
use crate::raft::StateRole;
use crate::read_only::ReadOnlyOption;
use crate::storage::MemStorage;
use crate::tracker::StateType;
use crate::util::{payload_size, payloads_size, vote_resp_msg_type};
use crate::Error;

#[test]
fn test_progress_leader() {
    let s = new_test_memory_storage(vec![with_peers(&[1, 2])]);
    let mut r = new_test_raft(1, 5, 1, s);
    r.become_candidate();
    r.become_leader();
    r.pr_mut(2).become_replicate();

    // Five proposals: with the empty entry, six unstable entries.
    let prop = prop_msg(1, b"foo");
    for i in 0..5 {
        r.step(prop.clone()).unwrap_or_else(|e| panic!("#{i}: {e}"));
    }

    assert_eq!(r.pr(1).matched, 0);

    let ents = r.raft_log.next_unstable_ents().to_vec();
    assert_eq!(ents.len(), 6);
    assert!(ents[0].data.is_empty());
    assert_eq!(&ents[5].data[..], b"foo");

    r.advance_messages_after_append();

    assert_eq!(r.pr(1).matched, 6);
    assert_eq!(r.pr(1).next, 7);
}

/// A heartbeat response unpauses the flow to a follower.
#[test]
fn test_progress_resume_by_heartbeat_resp() {
    let mut r = new_test_raft(1, 5, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));
    r.become_candidate();
    r.become_leader();

    r.pr_mut(2).msg_app_flow_paused = true;

    let _ = r.step(new_message(1, 1, MsgBeat));
    assert!(r.pr(2).msg_app_flow_paused);

    r.pr_mut(2).become_replicate();
    assert!(!r.pr(2).msg_app_flow_paused);
    r.pr_mut(2).msg_app_flow_paused = true;
    let _ = r.step(new_message(2, 1, MsgHeartbeatResp));
    assert!(!r.pr(2).msg_app_flow_paused);
}

#[test]
fn test_progress_paused() {
    let mut r = new_test_raft(1, 5, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));
    r.become_candidate();
    r.become_leader();
    for _ in 0..3 {
        let _ = r.step(prop_msg(1, b"somedata"));
    }

    let ms = r.read_messages();
    assert_eq!(ms.len(), 1);
}

#[test]
fn test_progress_flow_control() {
    let mut cfg = new_test_config(1, 5, 1);
    cfg.max_inflight_msgs = 3;
    cfg.max_size_per_msg = 2048;
    // A little over max_inflight_msgs * max_size_per_msg.
    cfg.max_inflight_bytes = 9000;
    let mut r = new_raft(&cfg, new_test_memory_storage(vec![with_peers(&[1, 2])]));
    r.become_candidate();
    r.become_leader();

    // Forget the messages of the election.
    r.read_messages();

    // While node 2 is probed, propose a bunch of entries.
    r.pr_mut(2).become_probe();
    let blob: &'static [u8] = &[b'a'; 1000];
    let large: &'static [u8] = &[b'b'; 5000];
    for i in 0..22 {
        // Some large entries in the middle.
        let data = if (10..16).contains(&i) { large } else { blob };
        let _ = r.step(prop_msg(1, data));
    }

    let ms = r.read_messages();
    // The first append has two entries: the leader's empty entry and the
    // first proposal (one append only while probing).
    assert_eq!(ms.len(), 1);
    assert_eq!(ms[0].get_type(), MsgApp);
    assert_eq!(ms[0].entries.len(), 2);
    assert!(ms[0].entries[0].data.is_empty());
    assert_eq!(ms[0].entries[1].data.len(), 1000);

    let ack_and_verify = |r: &mut TestRaft, index: u64, exp_entries: &[usize]| -> u64 {
        let mut m = new_message(2, 1, MsgAppResp);
        m.index = index;
        let _ = r.step(m);
        let ms = r.read_messages();
        assert_eq!(ms.len(), exp_entries.len());
        for (i, m) in ms.iter().enumerate() {
            assert_eq!(m.get_type(), MsgApp, "#{i}");
            assert_eq!(m.entries.len(), exp_entries[i], "#{i}");
        }
        match ms.last().unwrap().entries.last() {
            None => index,
            Some(e) => e.index,
        }
    };

    // Once acknowledged, the follower is replicated to with several appends
    // at once.
    let mut index = ack_and_verify(&mut r, ms[0].entries[1].index, &[2, 2, 2]);
    // Acknowledging all three gives three more; the third holds one large
    // entry rather than two.
    index = ack_and_verify(&mut r, index, &[2, 1, 1]);
    // Then one large entry per append, and two appends at a time since the
    // byte limit overflows.
    index = ack_and_verify(&mut r, index, &[1, 1]);
    index = ack_and_verify(&mut r, index, &[1, 1]);
    // Small entries again.
    index = ack_and_verify(&mut r, index, &[1, 2, 2]);
    ack_and_verify(&mut r, index, &[2]);
}

#[test]
fn test_uncommitted_entry_limit() {
    // Many entries, so that a wrong size computation shows up either as
    // proposals dropped too early or as a final tally that is not zero.
    const MAX_ENTRIES: usize = 1024;
    let test_entry = entry_with_data(b"testdata");
    let max_entry_size = MAX_ENTRIES as u64 * payload_size(&test_entry);

    assert_eq!(payload_size(&Entry::default()), 0);

    let mut cfg = new_test_config(1, 5, 1);
    cfg.max_uncommitted_entries_size = max_entry_size;
    // Keep the in-flight limit out of the way.
    cfg.max_inflight_msgs = 2 * 1024;
    let mut r = new_raft(&cfg, new_test_memory_storage(vec![with_peers(&[1, 2, 3])]));
    r.become_candidate();
    r.become_leader();
    assert_eq!(r.uncommitted_size, 0);

    // Both followers replicate; the log tail counts as committed.
    const NUM_FOLLOWERS: usize = 2;
    r.pr_mut(2).become_replicate();
    r.pr_mut(3).become_replicate();
    r.uncommitted_size = 0;

    // The proposals up to the limit are appended.
    let mut prop = new_message(1, 1, MsgProp);
    prop.entries = vec![test_entry.clone()];
    let mut prop_ents = Vec::with_capacity(MAX_ENTRIES);
    for i in 0..MAX_ENTRIES {
        r.step(prop.clone()).unwrap_or_else(|e| panic!("#{i}: {e}"));
        prop_ents.push(test_entry.clone());
    }

    // One more is dropped.
    assert_eq!(r.step(prop.clone()), Err(Error::ProposalDropped));

    // As if they committed: the uncommitted size goes back to zero.
    let ms = r.read_messages();
    assert_eq!(ms.len(), MAX_ENTRIES * NUM_FOLLOWERS);
    r.reduce_uncommitted_size(payloads_size(&prop_ents));
    assert_eq!(r.uncommitted_size, 0);

    // A single large proposal is accepted even though it goes over the
    // limit, since the log was under it before.
    let prop_ents = vec![test_entry.clone(); 2 * MAX_ENTRIES];
    let mut prop_large = new_message(1, 1, MsgProp);
    prop_large.entries = prop_ents.clone();
    r.step(prop_large).unwrap();

    // Then another one is dropped.
    assert_eq!(r.step(prop.clone()), Err(Error::ProposalDropped));

    // An entry without data is always accepted: the leader's empty entry
    // and the automatic leaving of a joint config rely on it.
    r.step(empty_prop(1)).unwrap();

    // As if they committed: back to zero.
    let ms = r.read_messages();
    assert_eq!(ms.len(), 2 * NUM_FOLLOWERS);
    r.reduce_uncommitted_size(payloads_size(&prop_ents));
    assert_eq!(r.uncommitted_size, 0);
}

#[test]
fn test_leader_election() {
    check_leader_election(false);
}

#[test]
fn test_leader_election_pre_vote() {
    check_leader_election(true);
}

fn check_leader_election(pre_vote: bool) {
    let cfg: Option<fn(&mut Config)> = if pre_vote {
        Some(pre_vote_config)
    } else {
        None
    };
    // An election that fails leaves a pre-candidate at its old term.
    let (cand_state, cand_term) = if pre_vote {
        (StateRole::PreCandidate, 0)
    } else {
        (StateRole::Candidate, 1)
    };
    let nil = || Peer::Nil;
    let nop = || NOP_STEPPER;
    let cases: Vec<(Network, StateRole, u64)> = vec![
        (
            Network::new_with_config(cfg, vec![nil(), nil(), nil()]),
            StateRole::Leader,
            1,
        ),
        (
            Network::new_with_config(cfg, vec![nil(), nil(), nop()]),
            StateRole::Leader,
            1,
        ),
        (
            Network::new_with_config(cfg, vec![nil(), nop(), nop()]),
            cand_state,
            cand_term,
        ),
        (
            Network::new_with_config(cfg, vec![nil(), nop(), nop(), nil()]),
            cand_state,
            cand_term,
        ),
        (
            Network::new_with_config(cfg, vec![nil(), nop(), nop(), nil(), nil()]),
            StateRole::Leader,
            1,
        ),
        // Three logs further along than 0, in the same term, so the votes
        // are rejected rather than ignored.
        (
            Network::new_with_config(
                cfg,
                vec![
                    nil(),
                    ents_with_config(cfg, &[1]).into(),
                    ents_with_config(cfg, &[1]).into(),
                    ents_with_config(cfg, &[1, 1]).into(),
                    nil(),
                ],
            ),
            StateRole::Follower,
            1,
        ),
    ];

    for (i, (mut nt, state, exp_term)) in cases.into_iter().enumerate() {
        nt.send1(new_message(1, 1, MsgHup));
        let sm = nt.peer(1);
        assert_eq!(sm.state, state, "#{i}");
        assert_eq!(sm.term, exp_term, "#{i}");
    }
}

/// A learner does not start an election even when its election times out.
#[test]
fn test_learner_election_timeout() {
    let mut n1 = new_test_learner_raft(
        1,
        10,
        1,
        new_test_memory_storage(vec![with_peers(&[1]), with_learners(&[2])]),
    );
    let mut n2 = new_test_learner_raft(
        2,
        10,
        1,
        new_test_memory_storage(vec![with_peers(&[1]), with_learners(&[2])]),
    );

    n1.become_follower(1, 0);
    n2.become_follower(1, 0);

    // n2 is a learner: no election even after the timeout.
    let et = n2.election_timeout;
    n2.set_randomized_election_timeout(et);
    for _ in 0..et {
        n2.tick();
    }

    assert_eq!(n2.state, StateRole::Follower);
}

/// A learner does not campaign until it is promoted to voter.
#[test]
fn test_learner_promotion() {
    let mut n1 = new_test_learner_raft(
        1,
        10,
        1,
        new_test_memory_storage(vec![with_peers(&[1]), with_learners(&[2])]),
    );
    let mut n2 = new_test_learner_raft(
        2,
        10,
        1,
        new_test_memory_storage(vec![with_peers(&[1]), with_learners(&[2])]),
    );

    n1.become_follower(1, 0);
    n2.become_follower(1, 0);

    let mut nt = Network::new(vec![n1.into(), n2.into()]);

    assert_ne!(nt.peer(1).state, StateRole::Leader);

    // n1 becomes leader.
    let n1 = nt.peer_mut(1);
    let et = n1.election_timeout;
    n1.set_randomized_election_timeout(et);
    for _ in 0..et {
        n1.tick();
    }
    n1.advance_messages_after_append();

    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert_eq!(nt.peer(2).state, StateRole::Follower);

    nt.send1(new_message(1, 1, MsgBeat));

    let cc = conf_change_v2(ConfChangeType::ConfChangeAddNode, 2);
    nt.peer_mut(1).apply_conf_change(&cc).unwrap();
    nt.peer_mut(2).apply_conf_change(&cc).unwrap();
    assert!(!nt.peer(2).is_learner);

    // n2 campaigns and wins.
    let n2 = nt.peer_mut(2);
    let et = n2.election_timeout;
    n2.set_randomized_election_timeout(et);
    for _ in 0..et {
        n2.tick();
    }
    n2.advance_messages_after_append();

    nt.send1(new_message(2, 2, MsgBeat));

    assert_eq!(nt.peer(1).state, StateRole::Follower);
    assert_eq!(nt.peer(2).state, StateRole::Leader);
}

/// Even a learner answers a proper vote request with a grant (`Raft::step`
/// explains why it must).
#[test]
fn test_learner_can_vote() {
    let mut n2 = new_test_learner_raft(
        2,
        10,
        1,
        new_test_memory_storage(vec![with_peers(&[1]), with_learners(&[2])]),
    );

    n2.become_follower(1, 0);

    let m = Message {
        term: 2,
        log_term: 11,
        index: 11,
        ..new_message(1, 2, MsgVote)
    };
    let _ = n2.step(m);

    let msgs = n2.read_messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].get_type(), MsgVoteResp);
    assert!(!msgs[0].reject, "expected learner to not reject vote");
}

#[test]
fn test_leader_cycle() {
    check_leader_cycle(false);
}

#[test]
fn test_leader_cycle_pre_vote() {
    check_leader_cycle(true);
}

/// Each node can campaign and be elected in turn, so elections (pre-vote
/// included) work from a used state, not only a clean one.
fn check_leader_cycle(pre_vote: bool) {
    let cfg: Option<fn(&mut Config)> = if pre_vote {
        Some(pre_vote_config)
    } else {
        None
    };
    let mut n = Network::new_with_config(cfg, vec![Peer::Nil, Peer::Nil, Peer::Nil]);
    for campaigner_id in 1..=3 {
        n.send1(new_message(campaigner_id, campaigner_id, MsgHup));

        for (_, sm) in n.peers.iter() {
            if sm.id == campaigner_id {
                assert_eq!(
                    sm.state,
                    StateRole::Leader,
                    "preVote={pre_vote}: campaigning node {}",
                    sm.id
                );
            } else {
                assert_eq!(
                    sm.state,
                    StateRole::Follower,
                    "preVote={pre_vote}: campaigning node {campaigner_id}, current node {}",
                    sm.id
                );
            }
        }
    }
}

#[test]
fn test_leader_election_overwrite_newer_logs() {
    check_leader_election_overwrite_newer_logs(false);
}

#[test]
fn test_leader_election_overwrite_newer_logs_pre_vote() {
    check_leader_election_overwrite_newer_logs(true);
}

/// A newly elected leader that lacks the highest-term entries overwrites
/// them with its lower-term ones.
fn check_leader_election_overwrite_newer_logs(pre_vote: bool) {
    let cfg: Option<fn(&mut Config)> = if pre_vote {
        Some(pre_vote_config)
    } else {
        None
    };
    // The state after:
    // - node 1 won the election of term 1,
    // - node 1 replicated an entry to node 2 only, then died,
    // - node 3 won the election of term 2,
    // - node 3 appended an entry but died before sending it.
    // Nodes 1, 2 and 3 all have uncommitted entries and could win term 3;
    // the winner's entry overwrites the others'.
    let mut n = Network::new_with_config(
        cfg,
        vec![
            ents_with_config(cfg, &[1]).into(),  // won the first election
            ents_with_config(cfg, &[1]).into(),  // got node 1's entry
            ents_with_config(cfg, &[2]).into(),  // won the second election
            voted_with_config(cfg, 3, 2).into(), // voted, no entries
            voted_with_config(cfg, 3, 2).into(), // voted, no entries
        ],
    );

    // Node 1 campaigns and fails: a quorum knows of term 2. Its term goes to
    // 2.
    n.send1(new_message(1, 1, MsgHup));
    assert_eq!(n.peer(1).state, StateRole::Follower);
    assert_eq!(n.peer(1).term, 2);

    // Campaigning again with a higher term succeeds.
    n.send1(new_message(1, 1, MsgHup));
    assert_eq!(n.peer(1).state, StateRole::Leader);
    assert_eq!(n.peer(1).term, 3);

    // Every log now holds term 1 at index 1 and the new leader's term 3
    // at index 2.
    for (_, sm) in n.peers.iter() {
        let entries = sm.raft_log.all_entries();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].term, 1);
        assert_eq!(entries[1].term, 3);
    }
}

#[test]
fn test_vote_from_any_state() {
    check_vote_from_any_state(MsgVote);
}

#[test]
fn test_pre_vote_from_any_state() {
    check_vote_from_any_state(MsgPreVote);
}

fn check_vote_from_any_state(vt: MessageType) {
    for st in [
        StateRole::Follower,
        StateRole::Candidate,
        StateRole::Leader,
        StateRole::PreCandidate,
    ] {
        let mut r = three_voter_raft(1);
        r.term = 1;

        match st {
            StateRole::Follower => {
                let t = r.term;
                r.become_follower(t, 3);
            }
            StateRole::PreCandidate => r.become_pre_candidate(),
            StateRole::Candidate => r.become_candidate(),
            StateRole::Leader => {
                r.become_candidate();
                r.become_leader();
            }
        }

        // The state change may have advanced the term.
        let orig_term = r.term;
        let new_term = r.term + 1;

        let m = Message {
            term: new_term,
            log_term: new_term,
            index: 42,
            ..new_message(2, 1, vt)
        };
        assert!(r.step(m).is_ok(), "{vt:?},{st:?}");
        let msgs = r.read_messages();
        assert_eq!(msgs.len(), 1, "{vt:?},{st:?}");
        let resp = &msgs[0];
        assert_eq!(resp.get_type(), vote_resp_msg_type(vt), "{vt:?},{st:?}");
        assert!(!resp.reject, "{vt:?},{st:?}");

        if vt == MsgVote {
            // A real vote resets state and term.
            assert_eq!(r.state, StateRole::Follower, "{vt:?},{st:?}");
            assert_eq!(r.term, new_term, "{vt:?},{st:?}");
            assert_eq!(r.vote, 2, "{vt:?},{st:?}");
        } else {
            // A pre-vote changes nothing.
            assert_eq!(r.state, st, "{vt:?},{st:?}");
            assert_eq!(r.term, orig_term, "{vt:?},{st:?}");
            // Followers and pre-candidates have not voted yet; candidates
            // and leaders voted for themselves.
            assert!(
                r.vote == 0 || r.vote == 1,
                "{vt:?},{st:?}: vote {}, want 0 or 1",
                r.vote
            );
        }
    }
}

#[test]
fn test_log_replication() {
    let cases: Vec<(Vec<Message>, u64)> = vec![
        (vec![prop_msg(1, b"somedata")], 2),
        (
            vec![
                prop_msg(1, b"somedata"),
                new_message(1, 2, MsgHup),
                Message {
                    entries: vec![entry_with_data(b"somedata")],
                    ..new_message(1, 2, MsgProp)
                },
            ],
            4,
        ),
    ];

    for (i, (msgs, wcommitted)) in cases.into_iter().enumerate() {
        let mut nt = Network::new(vec![Peer::Nil, Peer::Nil, Peer::Nil]);
        nt.send1(new_message(1, 1, MsgHup));

        for m in &msgs {
            nt.send1(m.clone());
        }

        for (j, x) in nt.peers.iter_mut() {
            assert_eq!(x.raft_log.committed, wcommitted, "#{i}.{j}");

            let ents: Vec<Entry> = x
                .next_ents()
                .into_iter()
                .filter(|e| !e.data.is_empty())
                .collect();
            let props: Vec<&Message> = msgs.iter().filter(|m| m.get_type() == MsgProp).collect();
            for (k, m) in props.iter().enumerate() {
                assert_eq!(m.entries[0].data, ents[k].data, "#{i}.{j}");
            }
        }
    }
}

/// A learner receives entries from the leader.
#[test]
fn test_learner_log_replication() {
    let s1 = new_test_memory_storage(vec![with_peers(&[1]), with_learners(&[2])]);
    let n1 = new_test_learner_raft(1, 10, 1, s1);
    let n2 = new_test_learner_raft(
        2,
        10,
        1,
        new_test_memory_storage(vec![with_peers(&[1]), with_learners(&[2])]),
    );

    let mut nt = Network::new(vec![n1.into(), n2.into()]);

    nt.peer_mut(1).become_follower(1, 0);
    nt.peer_mut(2).become_follower(1, 0);

    let n1 = nt.peer_mut(1);
    let et = n1.election_timeout;
    n1.set_randomized_election_timeout(et);
    for _ in 0..et {
        n1.tick();
    }
    n1.advance_messages_after_append();

    nt.send1(new_message(1, 1, MsgBeat));

    // n1 leads, n2 learns.
    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert!(nt.peer(2).is_learner);

    let next_committed = 2;
    nt.send1(prop_msg(1, b"somedata"));

    assert_eq!(nt.peer(1).raft_log.committed, next_committed);
    assert_eq!(nt.peer(1).raft_log.committed, nt.peer(2).raft_log.committed);

    let matched = nt.peer(1).pr(2).matched;
    assert_eq!(matched, nt.peer(2).raft_log.committed);
}

#[test]
fn test_single_node_commit() {
    let s = new_test_memory_storage(vec![with_peers(&[1])]);
    let cfg = new_test_config(1, 10, 1);
    let r = new_raft(&cfg, s);
    let mut tt = Network::new(vec![r.into()]);
    tt.send1(new_message(1, 1, MsgHup));
    tt.send1(prop_msg(1, b"some data"));
    tt.send1(prop_msg(1, b"some data"));

    assert_eq!(tt.peer(1).raft_log.committed, 3);
}

/// Five fresh nodes, 1 elected, then cut off from 3, 4 and 5, and two
/// proposals made to it: they reach only 2, so cannot commit. The start of
/// the tests of committing an earlier term's entries after a leader change.
fn leader_1_cut_from_3_4_5_with_two_proposals() -> Network {
    let mut tt = Network::new(vec![Peer::Nil, Peer::Nil, Peer::Nil, Peer::Nil, Peer::Nil]);
    tt.send1(new_message(1, 1, MsgHup));
    tt.cut(1, 3);
    tt.cut(1, 4);
    tt.cut(1, 5);
    tt.send1(prop_msg(1, b"some data"));
    tt.send1(prop_msg(1, b"some data"));
    tt
}

/// Entries of an earlier term are not committed after a leader change when
/// no new proposal arrives and the new leader's empty entry is filtered.
#[test]
fn test_cannot_commit_without_new_term_entry() {
    let mut tt = leader_1_cut_from_3_4_5_with_two_proposals();

    assert_eq!(tt.peer(1).raft_log.committed, 1);

    // Heal the network, but keep the new leader's empty entry from
    // committing.
    tt.recover();
    tt.ignore(MsgApp);

    // 2 becomes leader at term 2.
    tt.send1(new_message(2, 2, MsgHup));

    // Nothing of the earlier term is committed.
    assert_eq!(tt.peer(2).raft_log.committed, 1);

    tt.recover();
    // A heartbeat resets the wait.
    tt.send1(new_message(2, 2, MsgBeat));
    // An entry of the current term...
    tt.send1(prop_msg(2, b"some data"));
    // ...commits everything.
    assert_eq!(tt.peer(2).raft_log.committed, 5);
}

/// Entries of an earlier term are committed after a leader change once
/// the new leader's empty entry commits.
#[test]
fn test_commit_without_new_term_entry() {
    let mut tt = leader_1_cut_from_3_4_5_with_two_proposals();

    assert_eq!(tt.peer(1).raft_log.committed, 1);

    tt.recover();

    // 2 becomes leader at term 2; its empty entry commits everything.
    tt.send1(new_message(2, 2, MsgHup));

    assert_eq!(tt.peer(1).raft_log.committed, 4);
}

#[test]
fn test_dueling_candidates() {
    let a = three_voter_raft(1);
    let b = three_voter_raft(2);
    let c = three_voter_raft(3);

    let mut nt = Network::new(vec![a.into(), b.into(), c.into()]);
    nt.cut(1, 3);

    nt.send1(new_message(1, 1, MsgHup));
    nt.send1(new_message(3, 3, MsgHup));

    // 1 wins with the votes of 1 and 2.
    assert_eq!(nt.peer(1).state, StateRole::Leader);

    // 3 stays candidate: its own vote and a rejection from 2.
    assert_eq!(nt.peer(3).state, StateRole::Candidate);

    nt.recover();

    // 3 campaigns again with a higher term and disrupts leader 1, but both
    // 1 and 2 reject it since its log is shorter: it ends up follower.
    nt.send1(new_message(3, 3, MsgHup));
    assert_eq!(nt.peer(3).state, StateRole::Follower);

    let cases = [
        (1, StateRole::Follower, 2, 1),
        (2, StateRole::Follower, 2, 1),
        (3, StateRole::Follower, 2, 0),
    ];
    for (i, (id, state, term, last_index)) in cases.into_iter().enumerate() {
        let sm = nt.peer(id);
        assert_eq!(sm.state, state, "#{i}");
        assert_eq!(sm.term, term, "#{i}");
        assert_eq!(sm.raft_log.last_index(), last_index, "#{i}");
    }
}

#[test]
fn test_dueling_pre_candidates() {
    let mut cfg_a = new_test_config(1, 10, 1);
    let mut cfg_b = new_test_config(2, 10, 1);
    let mut cfg_c = new_test_config(3, 10, 1);
    cfg_a.pre_vote = true;
    cfg_b.pre_vote = true;
    cfg_c.pre_vote = true;
    let a = new_raft(
        &cfg_a,
        new_test_memory_storage(vec![with_peers(&[1, 2, 3])]),
    );
    let b = new_raft(
        &cfg_b,
        new_test_memory_storage(vec![with_peers(&[1, 2, 3])]),
    );
    let c = new_raft(
        &cfg_c,
        new_test_memory_storage(vec![with_peers(&[1, 2, 3])]),
    );

    let mut nt = Network::new(vec![a.into(), b.into(), c.into()]);
    nt.cut(1, 3);

    nt.send1(new_message(1, 1, MsgHup));
    nt.send1(new_message(3, 3, MsgHup));

    // 1 wins with the votes of 1 and 2.
    assert_eq!(nt.peer(1).state, StateRole::Leader);

    // 3's pre-vote is rejected: it reverts to follower.
    assert_eq!(nt.peer(3).state, StateRole::Follower);

    nt.recover();

    // With pre-vote, 3 campaigning again does not disrupt the leader.
    nt.send1(new_message(3, 3, MsgHup));

    let cases = [
        (1, StateRole::Leader, 1, 1),
        (2, StateRole::Follower, 1, 1),
        (3, StateRole::Follower, 1, 0),
    ];
    for (i, (id, state, term, last_index)) in cases.into_iter().enumerate() {
        let sm = nt.peer(id);
        assert_eq!(sm.state, state, "#{i}");
        assert_eq!(sm.term, term, "#{i}");
        assert_eq!(sm.raft_log.last_index(), last_index, "#{i}");
    }
}

/// The log every peer of a fresh 3-node network has after node 1 won term 1
/// and committed one proposal of `data` (etcd builds it as a literal).
fn want_log_with_one_prop(data: &'static [u8]) -> String {
    ltoa(&new_log(mem_storage_with_ents(vec![
        Entry::default(),
        new_entry(1, 1),
        Entry {
            data: Bytes::from_static(data),
            ..new_entry(2, 1)
        },
    ])))
}

#[test]
fn test_candidate_concede() {
    let mut tt = Network::new(vec![Peer::Nil, Peer::Nil, Peer::Nil]);
    tt.isolate(1);

    tt.send1(new_message(1, 1, MsgHup));
    tt.send1(new_message(3, 3, MsgHup));

    // Heal the partition.
    tt.recover();
    // A heartbeat resets the wait.
    tt.send1(new_message(3, 3, MsgBeat));

    let data = b"force follower";
    // A proposal to 3 flushes out an append to 1.
    tt.send1(prop_msg(3, data));
    // A heartbeat flushes out the commit index.
    tt.send1(new_message(3, 3, MsgBeat));

    assert_eq!(tt.peer(1).state, StateRole::Follower);
    assert_eq!(tt.peer(1).term, 1);

    let want_log = want_log_with_one_prop(data);
    for (i, p) in tt.peers.iter() {
        if let Some(sm) = p.raft() {
            assert_eq!(ltoa(&sm.raft_log), want_log, "#{i}");
        }
    }
}

#[test]
fn test_single_node_candidate() {
    let mut tt = Network::new(vec![Peer::Nil]);
    tt.send1(new_message(1, 1, MsgHup));

    assert_eq!(tt.peer(1).state, StateRole::Leader);
}

#[test]
fn test_single_node_pre_candidate() {
    let mut tt = Network::new_with_config(Some(pre_vote_config), vec![Peer::Nil]);
    tt.send1(new_message(1, 1, MsgHup));

    assert_eq!(tt.peer(1).state, StateRole::Leader);
}

#[test]
fn test_old_messages() {
    let mut tt = Network::new(vec![Peer::Nil, Peer::Nil, Peer::Nil]);
    // 1 becomes leader at term 3.
    tt.send1(new_message(1, 1, MsgHup));
    tt.send1(new_message(2, 2, MsgHup));
    tt.send1(new_message(1, 1, MsgHup));
    // An old leader's append: ignored.
    tt.send1(Message {
        term: 2,
        entries: index(3).terms(&[2]),
        ..new_message(2, 1, MsgApp)
    });
    // Commit a new entry.
    tt.send1(prop_msg(1, b"somedata"));

    let mut ents = index(0).terms(&[0, 1, 2, 3, 3]);
    ents[4].data = Bytes::from_static(b"somedata");
    let base = ltoa(&new_log(mem_storage_with_ents(ents)));
    for (i, p) in tt.peers.iter() {
        if let Some(sm) = p.raft() {
            assert_eq!(ltoa(&sm.raft_log), base, "#{i}");
        }
    }
}

#[test]
fn test_proposal() {
    let nil = || Peer::Nil;
    let nop = || NOP_STEPPER;
    let cases: Vec<(Vec<Peer>, bool)> = vec![
        (vec![nil(), nil(), nil()], true),
        (vec![nil(), nil(), nop()], true),
        (vec![nil(), nop(), nop()], false),
        (vec![nil(), nop(), nop(), nil()], false),
        (vec![nil(), nop(), nop(), nil(), nil()], true),
    ];

    for (j, (peers, success)) in cases.into_iter().enumerate() {
        let mut nt = Network::new(peers);
        let data = b"somedata";

        // Make 1 leader, then propose.
        nt.send1(new_message(1, 1, MsgHup));
        nt.send1(prop_msg(1, data));

        let want_log = if success {
            want_log_with_one_prop(data)
        } else {
            ltoa(&new_log(MemStorage::new()))
        };
        for (i, p) in nt.peers.iter() {
            if let Some(sm) = p.raft() {
                assert_eq!(ltoa(&sm.raft_log), want_log, "#{j}, peer {i}");
            }
        }
        assert_eq!(nt.peer(1).term, 1, "#{j}");
    }
}

#[test]
fn test_proposal_by_proxy() {
    let data = b"somedata";
    let cases = vec![
        vec![Peer::Nil, Peer::Nil, Peer::Nil],
        vec![Peer::Nil, Peer::Nil, NOP_STEPPER],
    ];

    for (j, peers) in cases.into_iter().enumerate() {
        let mut tt = Network::new(peers);
        // 1 becomes leader.
        tt.send1(new_message(1, 1, MsgHup));

        // Propose through a follower.
        tt.send1(prop_msg(2, data));

        let want_log = want_log_with_one_prop(data);
        for (i, p) in tt.peers.iter() {
            if let Some(sm) = p.raft() {
                assert_eq!(ltoa(&sm.raft_log), want_log, "#{j}.{i}");
            }
        }
        assert_eq!(tt.peer(1).term, 1, "#{j}");
    }
}

#[test]
fn test_commit() {
    let cases: Vec<(Vec<u64>, Vec<Entry>, u64, u64)> = vec![
        // Single node.
        (vec![1], index(1).terms(&[1]), 1, 1),
        (vec![1], index(1).terms(&[1]), 2, 0),
        (vec![2], index(1).terms(&[1, 2]), 2, 2),
        (vec![1], index(1).terms(&[2]), 2, 1),
        // Odd.
        (vec![2, 1, 1], index(1).terms(&[1, 2]), 1, 1),
        (vec![2, 1, 1], index(1).terms(&[1, 1]), 2, 0),
        (vec![2, 1, 2], index(1).terms(&[1, 2]), 2, 2),
        (vec![2, 1, 2], index(1).terms(&[1, 1]), 2, 0),
        // Even.
        (vec![2, 1, 1, 1], index(1).terms(&[1, 2]), 1, 1),
        (vec![2, 1, 1, 1], index(1).terms(&[1, 1]), 2, 0),
        (vec![2, 1, 1, 2], index(1).terms(&[1, 2]), 1, 1),
        (vec![2, 1, 1, 2], index(1).terms(&[1, 1]), 2, 0),
        (vec![2, 1, 2, 2], index(1).terms(&[1, 2]), 2, 2),
        (vec![2, 1, 2, 2], index(1).terms(&[1, 1]), 2, 0),
    ];

    for (i, (matches, logs, sm_term, w)) in cases.into_iter().enumerate() {
        let mut storage = new_test_memory_storage(vec![with_peers(&[1])]);
        storage.append(&logs).unwrap();
        storage
            .set_hard_state(HardState {
                term: sm_term,
                ..Default::default()
            })
            .unwrap();

        let mut sm = new_test_raft(1, 10, 2, storage);
        for (j, &m) in matches.iter().enumerate() {
            let id = j as u64 + 1;
            if id > 1 {
                sm.apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeAddNode, id))
                    .unwrap();
            }
            let pr = sm.pr_mut(id);
            pr.matched = m;
            pr.next = m + 1;
        }
        sm.maybe_commit();
        assert_eq!(sm.raft_log.committed, w, "#{i}");
    }
}

#[test]
fn test_past_election_timeout() {
    let cases = [
        (5, 0.0, false),
        (10, 0.1, true),
        (13, 0.4, true),
        (15, 0.6, true),
        (18, 0.9, true),
        (20, 1.0, false),
    ];

    for (i, (elapse, wprobability, round)) in cases.into_iter().enumerate() {
        let mut sm = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1])]));
        sm.election_elapsed = elapse;
        let mut c = 0;
        for _ in 0..10000 {
            sm.reset_randomized_election_timeout();
            if sm.past_election_timeout() {
                c += 1;
            }
        }
        let mut got = c as f64 / 10000.0;
        if round {
            got = (got * 10.0 + 0.5).floor() / 10.0;
        }
        assert_eq!(got, wprobability, "#{i}");
    }
}

/// `step` ignores a message of an older term rather than handing it to the
/// per-state step function. etcd observes that with a fake step function;
/// here the observable effects of handling it (a response, a log change)
/// are checked to be absent.
#[test]
fn test_step_ignore_old_term_msg() {
    let mut sm = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1])]));
    sm.term = 2;
    let _ = sm.step(Message {
        term: sm.term - 1,
        entries: index(1).terms(&[1]),
        ..Message::new(MsgApp)
    });
    assert!(sm.read_messages().is_empty());
    assert_eq!(sm.raft_log.last_index(), 0);
    assert_eq!(sm.term, 2);
}

/// The follower's handling of an append:
/// 1. It rejects when its log has no entry at the previous index and term.
/// 2. It replaces conflicting entries and appends the new ones.
/// 3. It commits up to min(leader commit, index of the last new entry).
#[test]
fn test_handle_msg_app() {
    let app = |term, log_term, index, commit, ents: Vec<Entry>| Message {
        term,
        log_term,
        index,
        commit,
        entries: ents,
        ..Message::new(MsgApp)
    };
    let cases = vec![
        // 1: previous entry mismatches, or does not exist.
        (app(2, 3, 2, 3, vec![]), 2, 0, true),
        (app(2, 3, 3, 3, vec![]), 2, 0, true),
        // 2.
        (app(2, 1, 1, 1, vec![]), 2, 1, false),
        (app(2, 0, 0, 1, index(1).terms(&[2])), 1, 1, false),
        (app(2, 2, 2, 3, index(3).terms(&[2, 2])), 4, 3, false),
        (app(2, 2, 2, 4, index(3).terms(&[2])), 3, 3, false),
        (app(2, 1, 1, 4, index(2).terms(&[2])), 2, 2, false),
        // 3: match entry 1, commit up to the last new entry 1.
        (app(1, 1, 1, 3, vec![]), 2, 1, false),
        // Match entry 1, commit up to the last new entry 2.
        (app(1, 1, 1, 3, index(2).terms(&[2])), 2, 2, false),
        // Match entry 2, commit up to the last new entry 2.
        (app(2, 2, 2, 3, vec![]), 2, 2, false),
        // Commit up to the log's last index.
        (app(2, 2, 2, 4, vec![]), 2, 2, false),
    ];

    for (i, (m, windex, wcommit, wreject)) in cases.into_iter().enumerate() {
        let mut storage = new_test_memory_storage(vec![with_peers(&[1])]);
        storage.append(&index(1).terms(&[1, 2])).unwrap();
        let mut sm = new_test_raft(1, 10, 1, storage);
        sm.become_follower(2, 0);

        sm.handle_append_entries(m);
        assert_eq!(sm.raft_log.last_index(), windex, "#{i}");
        assert_eq!(sm.raft_log.committed, wcommit, "#{i}");
        let m = sm.read_messages();
        assert_eq!(m.len(), 1, "#{i}");
        assert_eq!(m[0].reject, wreject, "#{i}");
    }
}

/// A follower commits up to the commit index of a heartbeat.
#[test]
fn test_handle_heartbeat() {
    let commit = 2;
    let hb = |c| Message {
        term: 2,
        commit: c,
        ..new_message(2, 1, MsgHeartbeat)
    };
    let cases = [
        (hb(commit + 1), commit + 1),
        // The commit index never decreases.
        (hb(commit - 1), commit),
    ];

    for (i, (m, wcommit)) in cases.into_iter().enumerate() {
        let mut storage = new_test_memory_storage(vec![with_peers(&[1, 2])]);
        storage.append(&index(1).terms(&[1, 2, 3])).unwrap();
        let mut sm = new_test_raft(1, 5, 1, storage);
        sm.become_follower(2, 2);
        sm.raft_log.commit_to(commit);
        sm.handle_heartbeat(m);
        assert_eq!(sm.raft_log.committed, wcommit, "#{i}");
        let m = sm.read_messages();
        assert_eq!(m.len(), 1, "#{i}");
        assert_eq!(m[0].get_type(), MsgHeartbeatResp, "#{i}");
    }
}

/// The leader re-sends entries on a heartbeat response from a follower that
/// is behind.
#[test]
fn test_handle_heartbeat_resp() {
    let mut storage = new_test_memory_storage(vec![with_peers(&[1, 2])]);
    storage.append(&index(1).terms(&[1, 2, 3])).unwrap();
    let mut sm = new_test_raft(1, 5, 1, storage);
    sm.become_candidate();
    sm.become_leader();
    let last = sm.raft_log.last_index();
    sm.raft_log.commit_to(last);

    // Node 2 answers a heartbeat while still lacking the entry, so the
    // leader sends the append again.
    let _ = sm.step(new_message(2, 0, MsgHeartbeatResp));
    let msgs = sm.read_messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].get_type(), MsgApp);

    // A second one re-sends again.
    let _ = sm.step(new_message(2, 0, MsgHeartbeatResp));
    let msgs = sm.read_messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].get_type(), MsgApp);

    // Once the append is acknowledged, heartbeats no longer cause appends.
    let _ = sm.step(Message {
        index: msgs[0].index + msgs[0].entries.len() as u64,
        ..new_message(2, 0, MsgAppResp)
    });
    // Drop the append sent in answer.
    sm.read_messages();

    let _ = sm.step(new_message(2, 0, MsgHeartbeatResp));
    assert!(sm.read_messages().is_empty());
}

/// Confirmed read requests are freed from the pending reads (etcd issue
/// 7571).
#[test]
fn test_raft_frees_read_only_mem() {
    let mut sm = new_test_raft(1, 5, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));
    sm.become_candidate();
    sm.become_leader();
    let last = sm.raft_log.last_index();
    sm.raft_log.commit_to(last);

    let req_ctx = b"ctx";

    // The leader starts a linearizable read (raft dissertation 6.4, step 2).
    let _ = sm.step(Message {
        entries: vec![entry_with_data(req_ctx)],
        ..new_message(2, 0, MsgReadIndex)
    });
    let msgs = sm.read_messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].get_type(), MsgHeartbeat);
    assert_eq!(sm.read_only.unconfirmed_len(), 1);

    // Heartbeat responses from a majority (here one follower) confirm the
    // leadership (step 3).
    let _ = sm.step(Message {
        context: msgs[0].context.clone(),
        ..new_message(2, 0, MsgHeartbeatResp)
    });
    assert_eq!(sm.read_only.unconfirmed_len(), 0);
}

/// How a leader resumes sending after a MsgAppResp.
#[test]
fn test_msg_app_resp_wait_reset() {
    let s = new_test_memory_storage(vec![with_peers(&[1, 2, 3])]);
    let mut sm = new_test_raft(1, 5, 1, s);
    sm.become_candidate();
    sm.become_leader();

    // Run n1: it sends appends and appends to its own log.
    sm.next_ents();

    // Node 2 acknowledges the first entry, committing it.
    let _ = sm.step(Message {
        index: 1,
        ..new_message(2, 0, MsgAppResp)
    });
    assert_eq!(sm.raft_log.committed, 1);

    // Drop the appends that tell the followers the commit index.
    sm.read_messages();

    // A new proposal on node 1.
    let _ = sm.step(Message {
        entries: vec![Entry::default()],
        ..new_message(1, 0, MsgProp)
    });

    // It goes to the nodes not waiting: node 2 left the wait with its
    // response, node 3 still waits.
    let msgs = sm.read_messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].get_type(), MsgApp);
    assert_eq!(msgs[0].to, 2);
    assert_eq!(msgs[0].entries.len(), 1);
    assert_eq!(msgs[0].entries[0].index, 2);

    // Node 3 acknowledges the first entry: it stops waiting and gets entry 2.
    let _ = sm.step(Message {
        index: 1,
        ..new_message(3, 0, MsgAppResp)
    });
    let msgs = sm.read_messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].get_type(), MsgApp);
    assert_eq!(msgs[0].to, 3);
    assert_eq!(msgs[0].entries.len(), 1);
    assert_eq!(msgs[0].entries[0].index, 2);
}

#[test]
fn test_recv_msg_vote() {
    check_recv_msg_vote(MsgVote);
}

#[test]
fn test_recv_msg_pre_vote() {
    check_recv_msg_vote(MsgPreVote);
}

fn check_recv_msg_vote(msg_type: MessageType) {
    use StateRole::*;
    // (state, index, log term, voted for, want reject)
    let cases = [
        (Follower, 0, 0, 0, true),
        (Follower, 0, 1, 0, true),
        (Follower, 0, 2, 0, true),
        (Follower, 0, 3, 0, false),
        (Follower, 1, 0, 0, true),
        (Follower, 1, 1, 0, true),
        (Follower, 1, 2, 0, true),
        (Follower, 1, 3, 0, false),
        (Follower, 2, 0, 0, true),
        (Follower, 2, 1, 0, true),
        (Follower, 2, 2, 0, false),
        (Follower, 2, 3, 0, false),
        (Follower, 3, 0, 0, true),
        (Follower, 3, 1, 0, true),
        (Follower, 3, 2, 0, false),
        (Follower, 3, 3, 0, false),
        (Follower, 3, 2, 2, false),
        (Follower, 3, 2, 1, true),
        (Leader, 3, 3, 1, true),
        (PreCandidate, 3, 3, 1, true),
        (Candidate, 3, 3, 1, true),
    ];

    for (i, (state, idx, log_term, vote_for, wreject)) in cases.into_iter().enumerate() {
        let mut sm = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1])]));
        // The per-state step function follows the state.
        sm.state = state;
        sm.vote = vote_for;
        sm.raft_log = new_log(mem_storage_with_ents(index(0).terms(&[0, 2, 2])));

        // The term is at least the last log term. Only the log comparison
        // and an earlier vote of the same term are under test, so both
        // sides use the same term.
        let term = sm.raft_log.last_entry_id().term.max(log_term);
        sm.term = term;
        let _ = sm.step(Message {
            term,
            index: idx,
            log_term,
            ..new_message(2, 0, msg_type)
        });

        let msgs = sm.read_messages();
        assert_eq!(msgs.len(), 1, "#{i}");
        assert_eq!(msgs[0].get_type(), vote_resp_msg_type(msg_type), "#{i}");
        assert_eq!(msgs[0].reject, wreject, "#{i}");
    }
}

#[test]
fn test_state_transition() {
    use StateRole::*;
    // (from, to, allowed, want term, want lead)
    let cases = [
        (Follower, Follower, true, 1, 0),
        (Follower, PreCandidate, true, 0, 0),
        (Follower, Candidate, true, 1, 0),
        (Follower, Leader, false, 0, 0),
        (PreCandidate, Follower, true, 0, 0),
        (PreCandidate, PreCandidate, true, 0, 0),
        (PreCandidate, Candidate, true, 1, 0),
        (PreCandidate, Leader, true, 0, 1),
        (Candidate, Follower, true, 0, 0),
        (Candidate, PreCandidate, true, 0, 0),
        (Candidate, Candidate, true, 1, 0),
        (Candidate, Leader, true, 0, 1),
        (Leader, Follower, true, 1, 0),
        (Leader, PreCandidate, false, 0, 0),
        (Leader, Candidate, false, 1, 0),
        (Leader, Leader, true, 0, 1),
    ];

    for (i, (from, to, wallow, wterm, wlead)) in cases.into_iter().enumerate() {
        let res = catch_unwind(AssertUnwindSafe(|| {
            let mut sm = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1])]));
            sm.state = from;

            match to {
                Follower => sm.become_follower(wterm, wlead),
                PreCandidate => sm.become_pre_candidate(),
                Candidate => sm.become_candidate(),
                Leader => sm.become_leader(),
            }
            (sm.term, sm.lead)
        }));
        // Only the transition may panic (a forbidden one does); the checks
        // stay outside so that their failures are not mistaken for it.
        match res {
            Ok((term, lead)) => {
                assert_eq!(term, wterm, "#{i}");
                assert_eq!(lead, wlead, "#{i}");
            }
            Err(_) => assert!(!wallow, "#{i}: transition panicked"),
        }
    }
}

#[test]
fn test_all_server_stepdown() {
    use StateRole::*;
    // (state, want state, want term, want index)
    let cases = [
        (Follower, Follower, 3, 0),
        (PreCandidate, Follower, 3, 0),
        (Candidate, Follower, 3, 0),
        (Leader, Follower, 3, 1),
    ];

    let tmsg_types = [MsgVote, MsgApp];
    let tterm = 3;

    for (i, (state, wstate, wterm, windex)) in cases.into_iter().enumerate() {
        let mut sm = three_voter_raft(1);
        match state {
            Follower => sm.become_follower(1, 0),
            PreCandidate => sm.become_pre_candidate(),
            Candidate => sm.become_candidate(),
            Leader => {
                sm.become_candidate();
                sm.become_leader();
            }
        }

        for (j, &msg_type) in tmsg_types.iter().enumerate() {
            let _ = sm.step(Message {
                term: tterm,
                log_term: tterm,
                ..new_message(2, 0, msg_type)
            });

            assert_eq!(sm.state, wstate, "#{i}.{j}");
            assert_eq!(sm.term, wterm, "#{i}.{j}");
            assert_eq!(sm.raft_log.last_index(), windex, "#{i}.{j}");
            assert_eq!(sm.raft_log.all_entries().len() as u64, windex, "#{i}.{j}");

            let wlead = if msg_type == MsgVote { 0 } else { 2 };
            assert_eq!(sm.lead, wlead, "#{i}.{j}");
        }
    }
}

/// Three rafts 1, 2, 3 of one group (election 10, heartbeat 1), each
/// prepared by `f`, ready for [`Network::new`].
fn three_peers(f: impl Fn(&mut TestRaft)) -> Vec<Peer> {
    (1..=3)
        .map(|id| {
            let mut r = three_voter_raft(id);
            f(&mut r);
            r.into()
        })
        .collect()
}

/// Ticks `r` `n` times.
fn tick_n(r: &mut TestRaft, n: usize) {
    for _ in 0..n {
        r.tick();
    }
}

#[test]
fn test_candidate_reset_term_msg_heartbeat() {
    check_candidate_reset_term(MsgHeartbeat);
}

#[test]
fn test_candidate_reset_term_msg_app() {
    check_candidate_reset_term(MsgApp);
}

/// A candidate that gets a heartbeat or an append from the leader takes the
/// leader's term and reverts to follower.
fn check_candidate_reset_term(mt: MessageType) {
    let mut nt = Network::new(three_peers(|_| {}));

    nt.send1(new_message(1, 1, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert_eq!(nt.peer(2).state, StateRole::Follower);
    assert_eq!(nt.peer(3).state, StateRole::Follower);

    // Isolate 3 and raise the term of the others.
    nt.isolate(3);

    nt.send1(new_message(2, 2, MsgHup));
    nt.send1(new_message(1, 1, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert_eq!(nt.peer(2).state, StateRole::Follower);

    // The isolated 3 campaigns.
    let c = nt.peer_mut(3);
    c.reset_randomized_election_timeout();
    let rt = c.randomized_election_timeout;
    tick_n(c, rt);
    c.advance_messages_after_append();

    assert_eq!(nt.peer(3).state, StateRole::Candidate);

    nt.recover();

    // The leader's message makes the candidate a follower at its term.
    let a_term = nt.peer(1).term;
    nt.send1(msg_term(1, 3, mt, a_term));

    assert_eq!(nt.peer(3).state, StateRole::Follower);
    assert_eq!(nt.peer(3).term, a_term);
}

// A (pre-)candidate's own vote, delivered to itself after it learned that
// it lost the election, must be ignored.

#[test]
fn test_candidate_self_vote_after_lost_election() {
    check_candidate_self_vote_after_lost_election(false);
}

#[test]
fn test_candidate_self_vote_after_lost_election_pre_vote() {
    check_candidate_self_vote_after_lost_election(true);
}

fn check_candidate_self_vote_after_lost_election(pre_vote: bool) {
    let mut sm = new_test_raft(
        1,
        5,
        1,
        new_test_memory_storage(vec![with_peers(&[1, 2, 3])]),
    );
    sm.pre_vote = pre_vote;

    // n1 campaigns.
    let _ = sm.step(new_message(1, 1, MsgHup));
    let steps = sm.take_messages_after_append();

    // Before its self-vote is persisted and counted, n1 hears that n2 won:
    // it becomes a follower.
    let t = sm.term;
    let _ = sm.step(msg_term(2, 1, MsgHeartbeat, t));
    assert_eq!(sm.state, StateRole::Follower);

    // Its self-vote arriving afterwards does not change that.
    let _ = sm.step_or_send(steps);
    assert_eq!(sm.state, StateRole::Follower);

    // Nor is it counted.
    let (granted, _, _) = sm.trk.tally_votes();
    assert_eq!(granted, 0);
}

#[test]
fn test_candidate_delivers_pre_candidate_self_vote_after_becoming_candidate() {
    let mut sm = new_test_raft(
        1,
        5,
        1,
        new_test_memory_storage(vec![with_peers(&[1, 2, 3])]),
    );
    sm.pre_vote = true;

    // n1 campaigns.
    let _ = sm.step(new_message(1, 1, MsgHup));
    assert_eq!(sm.state, StateRole::PreCandidate);
    let steps = sm.take_messages_after_append();

    // Both peers grant the pre-vote before n1 counted its own: n1 becomes a
    // candidate. Pre-votes carry the local term + 1.
    let t = sm.term + 1;
    let _ = sm.step(msg_term(2, 1, MsgPreVoteResp, t));
    let _ = sm.step(msg_term(3, 1, MsgPreVoteResp, t));
    assert_eq!(sm.state, StateRole::Candidate);

    // The delayed pre-vote self-vote leaves it a candidate...
    let _ = sm.step_or_send(steps);
    assert_eq!(sm.state, StateRole::Candidate);

    let steps = sm.take_messages_after_append();

    // ...and is not counted.
    let (granted, _, _) = sm.trk.tally_votes();
    assert_eq!(granted, 0);

    // One vote from n2 is not enough.
    let t = sm.term;
    let _ = sm.step(msg_term(2, 1, MsgVoteResp, t));
    assert_eq!(sm.state, StateRole::Candidate);

    // With its own vote it has a quorum.
    let _ = sm.step_or_send(steps);
    assert_eq!(sm.state, StateRole::Leader);
}

#[test]
fn test_leader_msg_app_self_ack_after_term_change() {
    let mut sm = new_test_raft(
        1,
        5,
        1,
        new_test_memory_storage(vec![with_peers(&[1, 2, 3])]),
    );
    sm.become_candidate();
    sm.become_leader();

    // n1 proposes.
    let _ = sm.step(prop_msg(1, b"somedata"));
    let steps = sm.take_messages_after_append();

    // n1 hears that n2 leads now.
    let t = sm.term + 1;
    let _ = sm.step(msg_term(2, 1, MsgHeartbeat, t));
    assert_eq!(sm.state, StateRole::Follower);

    // Its earlier self-acknowledgement carries an old term and is ignored.
    let _ = sm.step_or_send(steps);
    assert_eq!(sm.state, StateRole::Follower);
}

#[test]
fn test_leader_stepdown_when_quorum_active() {
    let mut sm = new_test_raft(
        1,
        5,
        1,
        new_test_memory_storage(vec![with_peers(&[1, 2, 3])]),
    );
    sm.check_quorum = true;

    sm.become_candidate();
    sm.become_leader();

    for _ in 0..sm.election_timeout + 1 {
        let t = sm.term;
        let _ = sm.step(msg_term(2, 0, MsgHeartbeatResp, t));
        sm.tick();
    }

    assert_eq!(sm.state, StateRole::Leader);
}

#[test]
fn test_leader_stepdown_when_quorum_lost() {
    let mut sm = new_test_raft(
        1,
        5,
        1,
        new_test_memory_storage(vec![with_peers(&[1, 2, 3])]),
    );
    sm.check_quorum = true;

    sm.become_candidate();
    sm.become_leader();

    let et = sm.election_timeout;
    tick_n(&mut sm, et + 1);

    assert_eq!(sm.state, StateRole::Follower);
}

#[test]
fn test_leader_superseding_with_check_quorum() {
    let mut nt = Network::new(three_peers(|r| r.check_quorum = true));
    let b = nt.peer_mut(2);
    let et = b.election_timeout;
    b.set_randomized_election_timeout(et + 1);

    tick_n(nt.peer_mut(2), et);
    nt.send1(new_message(1, 1, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert_eq!(nt.peer(3).state, StateRole::Follower);

    nt.send1(new_message(3, 3, MsgHup));

    // b rejected c's vote: its election timeout had not elapsed.
    assert_eq!(nt.peer(3).state, StateRole::Candidate);

    // Let b's election timeout elapse.
    tick_n(nt.peer_mut(2), et);
    nt.send1(new_message(3, 3, MsgHup));

    assert_eq!(nt.peer(3).state, StateRole::Leader);
}

#[test]
fn test_leader_election_with_check_quorum() {
    let mut nt = Network::new(three_peers(|r| r.check_quorum = true));
    let et = nt.peer(1).election_timeout;
    nt.peer_mut(1).set_randomized_election_timeout(et + 1);
    nt.peer_mut(2).set_randomized_election_timeout(et + 2);

    // Right after creation votes are granted regardless of the election
    // timeout.
    nt.send1(new_message(1, 1, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert_eq!(nt.peer(3).state, StateRole::Follower);

    // The state changes may have reset the randomized timeouts to the
    // election timeout: set them above it again.
    nt.peer_mut(1).set_randomized_election_timeout(et + 1);
    nt.peer_mut(2).set_randomized_election_timeout(et + 2);
    tick_n(nt.peer_mut(1), et);
    tick_n(nt.peer_mut(2), et);
    nt.send1(new_message(3, 3, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Follower);
    assert_eq!(nt.peer(3).state, StateRole::Leader);
}

/// A candidate stuck at a term above the leader's still gets the group
/// moving: the leader, lease or not, learns the bigger term and steps down.
#[test]
fn test_free_stuck_candidate_with_check_quorum() {
    let mut nt = Network::new(three_peers(|r| r.check_quorum = true));
    let et = nt.peer(2).election_timeout;
    nt.peer_mut(2).set_randomized_election_timeout(et + 1);

    tick_n(nt.peer_mut(2), et);
    nt.send1(new_message(1, 1, MsgHup));

    nt.isolate(1);
    nt.send1(new_message(3, 3, MsgHup));

    assert_eq!(nt.peer(2).state, StateRole::Follower);
    assert_eq!(nt.peer(3).state, StateRole::Candidate);
    assert_eq!(nt.peer(3).term, nt.peer(2).term + 1);

    // Once more, for safety.
    nt.send1(new_message(3, 3, MsgHup));

    assert_eq!(nt.peer(2).state, StateRole::Follower);
    assert_eq!(nt.peer(3).state, StateRole::Candidate);
    assert_eq!(nt.peer(3).term, nt.peer(2).term + 2);

    nt.recover();
    let a_term = nt.peer(1).term;
    nt.send1(msg_term(1, 3, MsgHeartbeat, a_term));

    // The leader is disrupted, freeing the stuck candidate.
    assert_eq!(nt.peer(1).state, StateRole::Follower);
    assert_eq!(nt.peer(3).term, nt.peer(1).term);

    // Now 3 wins.
    nt.send1(new_message(3, 3, MsgHup));

    assert_eq!(nt.peer(3).state, StateRole::Leader);
}

#[test]
fn test_non_promotable_voter_with_check_quorum() {
    let mut a = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));
    let mut b = new_test_raft(2, 10, 1, new_test_memory_storage(vec![with_peers(&[1])]));

    a.check_quorum = true;
    b.check_quorum = true;

    let mut nt = Network::new(vec![a.into(), b.into()]);
    let b = nt.peer_mut(2);
    let et = b.election_timeout;
    b.set_randomized_election_timeout(et + 1);
    // The network rebuilt b's configuration: remove 2 again so that it is
    // not promotable.
    b.apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeRemoveNode, 2))
        .unwrap();

    assert!(!b.promotable());

    tick_n(b, et);
    nt.send1(new_message(1, 1, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert_eq!(nt.peer(2).state, StateRole::Follower);
    assert_eq!(nt.peer(2).lead, 1);
}

/// An isolated follower whose election times out (the leader's messages are
/// slow) campaigns at a higher term; its answer to the late heartbeat makes
/// the leader step down.
#[test]
fn test_disruptive_follower() {
    let mut nt = Network::new(three_peers(|r| {
        r.check_quorum = true;
        r.become_follower(1, 0);
    }));

    nt.send1(new_message(1, 1, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert_eq!(nt.peer(2).state, StateRole::Follower);
    assert_eq!(nt.peer(3).state, StateRole::Follower);

    // etcd's server advances the ticks on restart to campaign sooner with
    // large election timeouts; or the leader's messages are delayed while
    // the ticks elapse.
    let n3 = nt.peer_mut(3);
    let et = n3.election_timeout;
    n3.set_randomized_election_timeout(et + 2);
    let rt = n3.randomized_election_timeout;
    tick_n(n3, rt - 1);

    // The leader's heartbeat should reset n3's election elapsed before the
    // last tick, but the last tick may come first and start a campaign.
    n3.tick();

    // n1 still leads; its heartbeat to n3 is delayed.
    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert_eq!(nt.peer(2).state, StateRole::Follower);
    assert_eq!(nt.peer(3).state, StateRole::Candidate);

    assert_eq!(nt.peer(1).term, 2);
    assert_eq!(nt.peer(2).term, 2);
    assert_eq!(nt.peer(3).term, 3);

    // With n3's vote requests still queued, the leader's heartbeat arrives,
    // at a lower term than the candidate's.
    let t = nt.peer(1).term;
    nt.send1(msg_term(1, 3, MsgHeartbeat, t));

    // n3 answers at its higher term and the leader steps down, which frees
    // the candidate for the next election.
    assert_eq!(nt.peer(1).state, StateRole::Follower);
    assert_eq!(nt.peer(2).state, StateRole::Follower);
    assert_eq!(nt.peer(3).state, StateRole::Candidate);

    assert_eq!(nt.peer(1).term, 3);
    assert_eq!(nt.peer(2).term, 2);
    assert_eq!(nt.peer(3).term, 3);
}

/// With pre-vote, an isolated follower whose log is behind becomes a
/// pre-candidate and cannot make the leader step down.
#[test]
fn test_disruptive_follower_pre_vote() {
    let mut nt = Network::new(three_peers(|r| {
        r.check_quorum = true;
        r.become_follower(1, 0);
    }));

    nt.send1(new_message(1, 1, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert_eq!(nt.peer(2).state, StateRole::Follower);
    assert_eq!(nt.peer(3).state, StateRole::Follower);

    nt.isolate(3);
    for _ in 0..3 {
        nt.send1(prop_msg(1, b"somedata"));
    }
    for id in 1..=3 {
        nt.peer_mut(id).pre_vote = true;
    }
    nt.recover();
    nt.send1(new_message(3, 3, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert_eq!(nt.peer(2).state, StateRole::Follower);
    assert_eq!(nt.peer(3).state, StateRole::PreCandidate);

    assert_eq!(nt.peer(1).term, 2);
    assert_eq!(nt.peer(2).term, 2);
    assert_eq!(nt.peer(3).term, 2);

    // The delayed heartbeat does not make the leader step down.
    let t = nt.peer(1).term;
    nt.send1(msg_term(1, 3, MsgHeartbeat, t));
    assert_eq!(nt.peer(1).state, StateRole::Leader);
}

/// Proposes `proposals` empty entries through 1, reads through `id` with
/// `ctx`, and checks the read state.
fn check_read_index(
    nt: &mut Network,
    i: usize,
    id: u64,
    proposals: usize,
    wri: u64,
    wctx: &'static [u8],
) {
    for _ in 0..proposals {
        nt.send1(empty_prop(1));
    }

    nt.send1(Message {
        entries: vec![entry_with_data(wctx)],
        ..new_message(id, id, MsgReadIndex)
    });

    let r = nt.peer_mut(id);
    assert!(!r.read_states.is_empty(), "#{i}");
    let rs = &r.read_states[0];
    assert_eq!(rs.index, wri, "#{i}");
    assert_eq!(&rs.request_ctx[..], wctx, "#{i}");
    r.read_states.clear();
}

#[test]
fn test_read_only_option_safe() {
    let mut nt = Network::new(three_peers(|_| {}));
    let et = nt.peer(2).election_timeout;
    nt.peer_mut(2).set_randomized_election_timeout(et + 1);

    tick_n(nt.peer_mut(2), et);
    nt.send1(new_message(1, 1, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);

    let cases: [(u64, usize, u64, &'static [u8]); 6] = [
        (1, 10, 11, b"ctx1"),
        (2, 10, 21, b"ctx2"),
        (3, 10, 31, b"ctx3"),
        (1, 10, 41, b"ctx4"),
        (2, 10, 51, b"ctx5"),
        (3, 10, 61, b"ctx6"),
    ];

    for (i, (id, proposals, wri, wctx)) in cases.into_iter().enumerate() {
        check_read_index(&mut nt, i, id, proposals, wri, wctx);
    }
}

#[test]
fn test_read_only_with_learner() {
    let s = new_test_memory_storage(vec![with_peers(&[1]), with_learners(&[2])]);
    let a = new_test_learner_raft(1, 10, 1, s);
    let b = new_test_learner_raft(
        2,
        10,
        1,
        new_test_memory_storage(vec![with_peers(&[1]), with_learners(&[2])]),
    );

    let mut nt = Network::new(vec![a.into(), b.into()]);
    let et = nt.peer(2).election_timeout;
    nt.peer_mut(2).set_randomized_election_timeout(et + 1);

    tick_n(nt.peer_mut(2), et);
    nt.send1(new_message(1, 1, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);

    let cases: [(u64, usize, u64, &'static [u8]); 4] = [
        (1, 10, 11, b"ctx1"),
        (2, 10, 21, b"ctx2"),
        (1, 10, 31, b"ctx3"),
        (2, 10, 41, b"ctx4"),
    ];

    for (i, (id, proposals, wri, wctx)) in cases.into_iter().enumerate() {
        for _ in 0..proposals {
            nt.send1(empty_prop(1));
            // Persist the entries on the leader.
            nt.peer_mut(1).next_ents();
        }
        check_read_index(&mut nt, i, id, 0, wri, wctx);
    }
}

#[test]
fn test_read_only_option_lease() {
    let mut nt = Network::new(three_peers(|r| {
        r.read_only_option = ReadOnlyOption::LeaseBased;
        r.check_quorum = true;
    }));
    let et = nt.peer(2).election_timeout;
    nt.peer_mut(2).set_randomized_election_timeout(et + 1);

    tick_n(nt.peer_mut(2), et);
    nt.send1(new_message(1, 1, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);

    let cases: [(u64, usize, u64, &'static [u8]); 6] = [
        (1, 10, 11, b"ctx1"),
        (2, 10, 21, b"ctx2"),
        (3, 10, 31, b"ctx3"),
        (1, 10, 41, b"ctx4"),
        (2, 10, 51, b"ctx5"),
        (3, 10, 61, b"ctx6"),
    ];

    for (i, (id, proposals, wri, wctx)) in cases.into_iter().enumerate() {
        check_read_index(&mut nt, i, id, proposals, wri, wctx);
    }
}

/// A leader only serves read-index requests once it committed an entry of
/// its own term.
#[test]
fn test_read_only_for_new_leader() {
    // (id, committed, applied, compact index)
    let node_configs = [(1, 1, 1, 0), (2, 2, 2, 2), (3, 2, 2, 2)];
    let mut peers = Vec::new();
    for (id, committed, applied, compact_index) in node_configs {
        let mut storage = new_test_memory_storage(vec![with_peers(&[1, 2, 3])]);
        storage.append(&index(1).terms(&[1, 1])).unwrap();
        storage
            .set_hard_state(HardState {
                term: 1,
                commit: committed,
                vote: 0,
            })
            .unwrap();
        if compact_index != 0 {
            storage.compact(compact_index).unwrap();
        }
        let mut cfg = new_test_config(id, 10, 1);
        cfg.applied = applied;
        peers.push(new_raft(&cfg, storage).into());
    }
    let mut nt = Network::new(peers);

    // Drop appends so that a cannot commit an entry of its term once leader.
    nt.ignore(MsgApp);
    // a becomes leader.
    nt.send1(new_message(1, 1, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);

    // a drops the read request.
    let windex = 4;
    let wctx: &'static [u8] = b"ctx";
    let read = Message {
        entries: vec![entry_with_data(wctx)],
        ..new_message(1, 1, MsgReadIndex)
    };
    nt.send1(read.clone());
    assert!(nt.peer(1).read_states.is_empty());

    nt.recover();

    // a commits an entry of its term.
    let ht = nt.peer(1).heartbeat_timeout;
    tick_n(nt.peer_mut(1), ht);
    nt.send1(empty_prop(1));
    let sm = nt.peer(1);
    assert_eq!(sm.raft_log.committed, 4);
    let last_log_term = sm
        .raft_log
        .zero_term_on_out_of_bounds(sm.raft_log.term(sm.raft_log.committed));
    assert_eq!(last_log_term, sm.term);

    // The postponed read was served once the entry committed.
    assert_eq!(sm.read_states.len(), 1);
    let rs = &sm.read_states[0];
    assert_eq!(rs.index, windex);
    assert_eq!(&rs.request_ctx[..], wctx);

    // New reads are served right away.
    nt.send1(read);
    let sm = nt.peer(1);
    assert_eq!(sm.read_states.len(), 2);
    let rs = &sm.read_states[1];
    assert_eq!(rs.index, windex);
    assert_eq!(&rs.request_ctx[..], wctx);
}

/// Repeated read-index requests with the same context must not produce
/// read states that are too old.
#[test]
fn test_read_only_duplicate_request() {
    use std::cell::RefCell;
    use std::rc::Rc;

    let mut net = Network::new(three_peers(|_| {}));

    // Held back until a new leader is elected and commits a new entry.
    let delayed_msgs: Rc<RefCell<Vec<Message>>> = Rc::default();

    // Elect r1.
    net.send1(new_message(1, 1, MsgHup));

    // The read index of request A must be at least this.
    let read_index_msg_a = Message {
        entries: vec![entry_with_data(b"A")],
        ..new_message(2, 1, MsgReadIndex)
    };
    let read_index_minimum_a = net.peer(1).raft_log.committed;

    // A duplicate of A for later, as the network or a retrying client
    // could produce.
    delayed_msgs.borrow_mut().push(read_index_msg_a.clone());

    // Process A, holding back (not duplicating) the heartbeat responses.
    let d = delayed_msgs.clone();
    net.msg_hook = Some(Box::new(move |m: &Message| {
        if m.get_type() == MsgHeartbeatResp {
            d.borrow_mut().push(m.clone());
            return false;
        }
        true
    }));
    net.send1(read_index_msg_a);
    net.msg_hook = None;

    // A tick and whatever raft sends finish processing A.
    let r1 = net.peer_mut(1);
    r1.tick();
    r1.advance_messages_after_append();
    let msgs = std::mem::take(&mut r1.msgs);
    net.send(msgs);

    net.isolate(1);

    // Elect r2 and commit a new entry.
    net.send1(new_message(2, 2, MsgHup));
    net.send1(prop_msg(2, b"someOp"));

    // Read from the disconnected, stale leader r1; the read index of B must
    // be at least this.
    let read_index_msg_b = Message {
        entries: vec![entry_with_data(b"B")],
        ..new_message(1, 1, MsgReadIndex)
    };
    let read_index_minimum_b = net.peer(2).raft_log.committed;

    net.send1(read_index_msg_b);
    net.recover();
    // The duplicate of A, then the held-back heartbeat responses: this must
    // not confirm B.
    let delayed = std::mem::take(&mut *delayed_msgs.borrow_mut());
    net.send(delayed);

    // No read index is too small, which would break linearizability.
    for id in 1..=3 {
        for rd in &net.peer(id).read_states {
            if &rd.request_ctx[..] == b"A" {
                assert!(
                    rd.index >= read_index_minimum_a,
                    "readIndex for A is {} (should be >= {read_index_minimum_a})",
                    rd.index
                );
            } else if &rd.request_ctx[..] == b"B" {
                assert!(
                    rd.index >= read_index_minimum_b,
                    "readIndex for B is {} (should be >= {read_index_minimum_b})",
                    rd.index
                );
            }
        }
    }
}

#[test]
fn test_leader_app_resp() {
    // The initial progress: match 0, next 3.
    // (index, reject, want match, want next, want message count, want
    // index, want committed)
    let cases = [
        // A stale response: no answer.
        (3, true, 0, 3, 0, 0, 0),
        // A rejection: no commit; next goes down and a probe is sent.
        (2, true, 0, 2, 1, 1, 0),
        // An acceptance: the leader commits and tells everyone.
        (2, false, 2, 4, 2, 2, 2),
        // The follower is probed at 0 and acknowledges 0 (its match): it
        // moves to replicate and gets everything (1, 2 and 3), so next is 4
        // (no entry yet at 4: the follower is up to date once it handles the
        // append).
        (0, false, 0, 4, 1, 0, 0),
    ];

    for (i, (idx, reject, wmatch, wnext, wmsg_num, windex, wcommitted)) in
        cases.into_iter().enumerate()
    {
        // The leader's term is 1, so the last log term must be 1 to commit.
        let mut sm = three_voter_raft(1);
        sm.raft_log = new_log(mem_storage_with_ents(index(0).terms(&[0, 1, 1])));
        sm.become_candidate();
        sm.become_leader();
        sm.read_messages();
        let t = sm.term;
        sm.step(Message {
            index: idx,
            term: t,
            reject,
            reject_hint: idx,
            ..new_message(2, 0, MsgAppResp)
        })
        .unwrap();

        let p = sm.pr(2);
        assert_eq!(p.matched, wmatch, "#{i}");
        assert_eq!(p.next, wnext, "#{i}");

        let msgs = sm.read_messages();

        assert_eq!(msgs.len(), wmsg_num, "#{i}");
        for m in &msgs {
            assert_eq!(m.index, windex, "#{i}: {m:?}");
            assert_eq!(m.commit, wcommitted, "#{i}: {m:?}");
        }
    }
}

/// On a heartbeat tick the leader sends heartbeats with no index, log term
/// or entries, and a commit index the follower can take.
#[test]
fn test_bcast_beat() {
    let offset = 1000;
    // A log starting at 1000.
    let s = snapshot(offset, 1, &[1, 2, 3]);
    let mut storage = MemStorage::new();
    storage.apply_snapshot(s).unwrap();
    let mut sm = new_test_raft(1, 10, 1, storage);
    sm.term = 1;

    sm.become_candidate();
    sm.become_leader();
    for i in 0..10 {
        sm.must_append_entry(vec![new_entry(i + 1, 0)]);
    }
    sm.advance_messages_after_append();

    // A slow follower...
    sm.pr_mut(2).matched = 5;
    sm.pr_mut(2).next = 6;
    // ...and an up-to-date one.
    let li = sm.raft_log.last_index();
    sm.pr_mut(3).matched = li;
    sm.pr_mut(3).next = li + 1;

    let _ = sm.step(Message::new(MsgBeat));
    let msgs = sm.read_messages();
    assert_eq!(msgs.len(), 2);

    let committed = sm.raft_log.committed;
    let mut want_commit: std::collections::HashMap<u64, u64> = [
        (2, committed.min(sm.pr(2).matched)),
        (3, committed.min(sm.pr(3).matched)),
    ]
    .into_iter()
    .collect();
    for (i, m) in msgs.iter().enumerate() {
        assert_eq!(m.get_type(), MsgHeartbeat, "#{i}");
        assert_eq!(m.index, 0, "#{i}");
        assert_eq!(m.log_term, 0, "#{i}");

        let commit = want_commit.remove(&m.to).unwrap_or_else(|| panic!("#{i}"));
        assert_eq!(m.commit, commit, "#{i}");

        assert!(m.entries.is_empty(), "#{i}");
    }
}

/// What each state does with MsgBeat.
#[test]
fn test_recv_msg_beat() {
    let cases = [
        (StateRole::Leader, 2),
        // Candidates and followers ignore it.
        (StateRole::Candidate, 0),
        (StateRole::Follower, 0),
    ];

    for (i, (state, wmsg)) in cases.into_iter().enumerate() {
        let mut sm = three_voter_raft(1);
        sm.raft_log = new_log(mem_storage_with_ents(index(0).terms(&[0, 1, 1])));
        sm.term = 1;
        // The per-state step function follows the state.
        sm.state = state;
        let _ = sm.step(new_message(1, 1, MsgBeat));

        let msgs = sm.read_messages();
        assert_eq!(msgs.len(), wmsg, "#{i}");
        for m in &msgs {
            assert_eq!(m.get_type(), MsgHeartbeat, "#{i}");
        }
    }
}

#[test]
fn test_leader_increase_next() {
    let previous_ents = index(1).terms(&[1, 2, 3]);
    let cases = [
        // Replicate: next goes up optimistically (previous entries, the
        // empty entry, the proposal, plus one).
        (
            StateType::Replicate,
            2,
            previous_ents.len() as u64 + 1 + 1 + 1,
        ),
        // Probe: it does not.
        (StateType::Probe, 2, 2),
    ];

    for (i, (state, next, wnext)) in cases.into_iter().enumerate() {
        let mut sm = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));
        sm.raft_log.append(previous_ents.clone());
        sm.become_candidate();
        sm.become_leader();
        sm.pr_mut(2).state = state;
        sm.pr_mut(2).next = next;
        let _ = sm.step(prop_msg(1, b"somedata"));

        assert_eq!(sm.pr(2).next, wnext, "#{i}");
    }
}

#[test]
fn test_send_append_for_progress_probe() {
    let mut r = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));
    r.become_candidate();
    r.become_leader();
    r.read_messages();
    r.pr_mut(2).become_probe();

    // Each round is a heartbeat.
    for i in 0..3 {
        if i == 0 {
            // Only one append goes out in the first round; then the
            // follower is paused until a heartbeat response.
            r.must_append_entry(vec![entry_with_data(b"somedata")]);
            r.send_append(2);
            let msg = r.read_messages();
            assert_eq!(msg.len(), 1);
            assert_eq!(msg[0].index, 0);
        }

        assert!(r.pr(2).msg_app_flow_paused);
        for _ in 0..10 {
            r.must_append_entry(vec![entry_with_data(b"somedata")]);
            r.send_append(2);
            assert!(r.read_messages().is_empty());
        }

        // A heartbeat.
        for _ in 0..r.heartbeat_timeout {
            let _ = r.step(new_message(1, 1, MsgBeat));
        }
        assert!(r.pr(2).msg_app_flow_paused);

        // Consume it.
        let msg = r.read_messages();
        assert_eq!(msg.len(), 1);
        assert_eq!(msg[0].get_type(), MsgHeartbeat);
    }

    // A heartbeat response lets one more append out.
    let _ = r.step(new_message(2, 1, MsgHeartbeatResp));
    let msg = r.read_messages();
    assert_eq!(msg.len(), 1);
    assert_eq!(msg[0].index, 0);
    assert!(r.pr(2).msg_app_flow_paused);
}

#[test]
fn test_send_append_for_progress_replicate() {
    let mut r = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));
    r.become_candidate();
    r.become_leader();
    r.read_messages();
    r.pr_mut(2).become_replicate();

    for i in 0..10 {
        r.must_append_entry(vec![entry_with_data(b"somedata")]);
        r.send_append(2);
        let msgs = r.read_messages();
        assert_eq!(msgs.len(), 1, "#{i}");
    }
}

#[test]
fn test_send_append_for_progress_snapshot() {
    let mut r = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));
    r.become_candidate();
    r.become_leader();
    r.read_messages();
    r.pr_mut(2).become_snapshot(10);

    for i in 0..10 {
        r.must_append_entry(vec![entry_with_data(b"somedata")]);
        r.send_append(2);
        let msgs = r.read_messages();
        assert!(msgs.is_empty(), "#{i}");
    }
}

#[test]
fn test_recv_msg_unreachable() {
    let previous_ents = index(1).terms(&[1, 2, 3]);
    let mut s = new_test_memory_storage(vec![with_peers(&[1, 2])]);
    s.append(&previous_ents).unwrap();
    let mut r = new_test_raft(1, 10, 1, s);
    r.become_candidate();
    r.become_leader();
    r.read_messages();
    // Node 2 replicates.
    r.pr_mut(2).matched = 3;
    r.pr_mut(2).become_replicate();
    r.pr_mut(2).next = 6;

    let _ = r.step(new_message(2, 1, MsgUnreachable));

    assert_eq!(r.pr(2).state, StateType::Probe);
    assert_eq!(r.pr(2).next, r.pr(2).matched + 1);
}

#[test]
fn test_restore() {
    let s = snapshot(11, 11, &[1, 2, 3]);

    let storage = new_test_memory_storage(vec![with_peers(&[1, 2])]);
    let mut sm = new_test_raft(1, 10, 1, storage);
    assert!(sm.restore(s.clone()));

    assert_eq!(sm.raft_log.last_index(), s.metadata.index);
    assert_eq!(sm.raft_log.term(s.metadata.index).unwrap(), s.metadata.term);
    assert_eq!(sm.trk.voter_nodes(), s.metadata.conf_state.voters);

    assert!(!sm.restore(s));
    let rt = sm.randomized_election_timeout;
    tick_n(&mut sm, rt);
    assert_eq!(sm.state, StateRole::Follower);
}

/// A snapshot with learners.
#[test]
fn test_restore_with_learner() {
    let mut s = snapshot(11, 11, &[1, 2]);
    s.metadata.conf_state.learners = vec![3];

    let storage = new_test_memory_storage(vec![with_peers(&[1, 2]), with_learners(&[3])]);
    let mut sm = new_test_learner_raft(3, 8, 2, storage);
    assert!(sm.restore(s.clone()));

    assert_eq!(sm.raft_log.last_index(), s.metadata.index);
    assert_eq!(sm.raft_log.term(s.metadata.index).unwrap(), s.metadata.term);

    let cs = &s.metadata.conf_state;
    assert_eq!(sm.trk.voter_nodes().len(), cs.voters.len());
    assert_eq!(sm.trk.learner_nodes().len(), cs.learners.len());

    for &n in &cs.voters {
        assert!(!sm.pr(n).is_learner);
    }
    for &n in &cs.learners {
        assert!(sm.pr(n).is_learner);
    }

    assert!(!sm.restore(s));
}

/// An outgoing voter can receive and apply a snapshot.
#[test]
fn test_restore_with_voters_outgoing() {
    let mut s = snapshot(11, 11, &[2, 3, 4]);
    s.metadata.conf_state.voters_outgoing = vec![1, 2, 3];

    let storage = new_test_memory_storage(vec![with_peers(&[1, 2])]);
    let mut sm = new_test_raft(1, 10, 1, storage);
    assert!(sm.restore(s.clone()));

    assert_eq!(sm.raft_log.last_index(), s.metadata.index);
    assert_eq!(sm.raft_log.term(s.metadata.index).unwrap(), s.metadata.term);
    assert_eq!(sm.trk.voter_nodes(), vec![1, 2, 3, 4]);

    assert!(!sm.restore(s));

    // No campaign before the snapshot is actually applied.
    let rt = sm.randomized_election_timeout;
    tick_n(&mut sm, rt);
    assert_eq!(sm.state, StateRole::Follower);
}

/// A voter can be turned into a learner by a snapshot. Conf changes cannot
/// do that directly, but a snapshot may compress a removal followed by a
/// re-addition as learner; the node must accept it or be cut off from the
/// log for good.
#[test]
fn test_restore_voter_to_learner() {
    let mut s = snapshot(11, 11, &[1, 2]);
    s.metadata.conf_state.learners = vec![3];

    let storage = new_test_memory_storage(vec![with_peers(&[1, 2, 3])]);
    let mut sm = new_test_raft(3, 10, 1, storage);

    assert!(!sm.is_learner);
    assert!(sm.restore(s));
}

/// A learner becomes a voter by restoring a snapshot.
#[test]
fn test_restore_learner_promotion() {
    let s = snapshot(11, 11, &[1, 2, 3]);

    let storage = new_test_memory_storage(vec![with_peers(&[1, 2]), with_learners(&[3])]);
    let mut sm = new_test_learner_raft(3, 10, 1, storage);

    assert!(sm.is_learner);
    assert!(sm.restore(s));
    assert!(!sm.is_learner);
}

/// A learner can receive a snapshot from the leader.
#[test]
fn test_learner_receive_snapshot() {
    // A leader restored from a snapshot, so that it has a compacted log.
    let mut s = snapshot(11, 11, &[1]);
    s.metadata.conf_state.learners = vec![2];

    let store = new_test_memory_storage(vec![with_peers(&[1]), with_learners(&[2])]);
    let mut n1 = new_test_learner_raft(1, 10, 1, store);
    let n2 = new_test_learner_raft(
        2,
        10,
        1,
        new_test_memory_storage(vec![with_peers(&[1]), with_learners(&[2])]),
    );

    n1.restore(s);
    let snap = n1.raft_log.next_unstable_snapshot().unwrap().clone();
    n1.storage_mut().apply_snapshot(snap.clone()).unwrap();
    n1.applied_snap(&snap);

    let mut nt = Network::new(vec![n1.into(), n2.into()]);

    let n1 = nt.peer_mut(1);
    let et = n1.election_timeout;
    n1.set_randomized_election_timeout(et);
    tick_n(n1, et);

    nt.send1(new_message(1, 1, MsgBeat));

    assert_eq!(nt.peer(2).raft_log.committed, nt.peer(1).raft_log.committed);
}

#[test]
fn test_restore_ignore_snapshot() {
    let previous_ents = index(1).terms(&[1, 1, 1]);
    let commit = 1;
    let storage = new_test_memory_storage(vec![with_peers(&[1, 2])]);
    let mut sm = new_test_raft(1, 10, 1, storage);
    sm.raft_log.append(previous_ents);
    sm.raft_log.commit_to(commit);

    let mut s = snapshot(commit, 1, &[1, 2]);

    // The snapshot is ignored.
    assert!(!sm.restore(s.clone()));
    assert_eq!(sm.raft_log.committed, commit);

    // Ignored, but the commit index moves forward.
    s.metadata.index = commit + 1;
    assert!(!sm.restore(s));
    assert_eq!(sm.raft_log.committed, commit + 1);
}

#[test]
fn test_provide_snap() {
    // A leader restored from a snapshot, so that it has a compacted log.
    let s = snapshot(11, 11, &[1, 2]);
    let storage = new_test_memory_storage(vec![with_peers(&[1])]);
    let mut sm = new_test_raft(1, 10, 1, storage);
    sm.restore(s);

    sm.become_candidate();
    sm.become_leader();

    // Node 2 needs a snapshot.
    let fi = sm.raft_log.first_index();
    sm.pr_mut(2).next = fi;
    let next = sm.pr(2).next;
    let _ = sm.step(Message {
        index: next - 1,
        reject: true,
        ..new_message(2, 1, MsgAppResp)
    });

    let msgs = sm.read_messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].get_type(), MsgSnap);
}

#[test]
fn test_ignore_providing_snap() {
    // A leader restored from a snapshot, so that it has a compacted log.
    let s = snapshot(11, 11, &[1, 2]);
    let storage = new_test_memory_storage(vec![with_peers(&[1])]);
    let mut sm = new_test_raft(1, 10, 1, storage);
    sm.restore(s);

    sm.become_candidate();
    sm.become_leader();

    // Node 2 needs a snapshot but is inactive: none is sent.
    let fi = sm.raft_log.first_index();
    sm.pr_mut(2).next = fi - 1;
    sm.pr_mut(2).recent_active = false;

    let _ = sm.step(prop_msg(1, b"somedata"));

    assert!(sm.read_messages().is_empty());
}

#[test]
fn test_restore_from_snap_msg() {
    let s = snapshot(11, 11, &[1, 2]);
    let m = Message {
        term: 2,
        snapshot: Some(Box::new(s)),
        ..new_message(1, 0, MsgSnap)
    };

    let mut sm = new_test_raft(2, 10, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));
    let _ = sm.step(m);

    assert_eq!(sm.lead, 1);
}

#[test]
fn test_slow_node_restore() {
    let mut nt = Network::new(vec![Peer::Nil, Peer::Nil, Peer::Nil]);
    nt.send1(new_message(1, 1, MsgHup));

    nt.isolate(3);
    for _ in 0..=100 {
        nt.send1(empty_prop(1));
    }
    let lead = nt.peer_mut(1);
    lead.next_ents();
    let applied = lead.raft_log.applied;
    let cs = ConfState {
        voters: lead.trk.voter_nodes(),
        ..Default::default()
    };
    lead.storage_mut()
        .create_snapshot(applied, Some(cs), Bytes::new())
        .unwrap();
    lead.storage_mut().compact(applied).unwrap();

    nt.recover();
    // Heartbeats until the leader knows everyone is active (3 only counts
    // once 1 hears back from it).
    loop {
        nt.send1(new_message(1, 1, MsgBeat));
        if nt.peer(1).pr(3).recent_active {
            break;
        }
    }

    // A snapshot.
    nt.send1(empty_prop(1));

    // A commit.
    nt.send1(empty_prop(1));
    assert_eq!(nt.peer(3).raft_log.committed, nt.peer(1).raft_log.committed);
}

/// Stepping a conf change proposal appends it and records it as pending.
#[test]
fn test_step_config() {
    // Two voters, only one of them running: nothing can commit.
    let mut r = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));
    r.become_candidate();
    r.become_leader();
    let index = r.raft_log.last_index();
    let _ = r.step(Message {
        entries: vec![entry_of_type(EntryType::EntryConfChange)],
        ..new_message(1, 1, MsgProp)
    });
    assert_eq!(r.raft_log.last_index(), index + 1);
    assert_eq!(r.pending_conf_index, index + 1);
}

/// A second conf change proposed while one is uncommitted becomes an empty
/// normal entry, and the pending one stays.
#[test]
fn test_step_ignore_config() {
    // Two voters, only one of them running: nothing can commit.
    let mut r = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));
    r.become_candidate();
    r.become_leader();
    let cc_prop = Message {
        entries: vec![entry_of_type(EntryType::EntryConfChange)],
        ..new_message(1, 1, MsgProp)
    };
    let _ = r.step(cc_prop.clone());
    let index = r.raft_log.last_index();
    let pending_conf_index = r.pending_conf_index;
    let _ = r.step(cc_prop);
    // The no-op has its type set, as etcd's has (it counts in its size).
    let wents = vec![typed_entry(3, 1, EntryType::EntryNormal, Bytes::new())];
    let ents = r.raft_log.entries(index + 1, NO_LIMIT).unwrap();
    assert_eq!(ents, wents);
    assert_eq!(r.pending_conf_index, pending_conf_index);
}

/// A new leader sets its pending conf index from its uncommitted entries.
#[test]
fn test_new_leader_pending_config() {
    let cases = [(false, 0), (true, 1)];
    for (i, (add_entry, wpending_index)) in cases.into_iter().enumerate() {
        let mut r = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));
        if add_entry {
            r.must_append_entry(vec![entry_of_type(EntryType::EntryNormal)]);
        }
        r.become_candidate();
        r.become_leader();
        assert_eq!(r.pending_conf_index, wpending_index, "#{i}");
    }
}

#[test]
fn test_add_node() {
    let mut r = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1])]));
    r.apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeAddNode, 2))
        .unwrap();
    assert_eq!(r.trk.voter_nodes(), vec![1, 2]);
}

#[test]
fn test_add_learner() {
    let mut r = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1])]));
    // A new learner.
    r.apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeAddLearnerNode, 2))
        .unwrap();
    assert!(!r.is_learner);
    assert_eq!(r.trk.learner_nodes(), vec![2]);
    assert!(r.pr(2).is_learner);

    // Promoted to voter.
    r.apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeAddNode, 2))
        .unwrap();
    assert!(!r.pr(2).is_learner);

    // r demoted.
    r.apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeAddLearnerNode, 1))
        .unwrap();
    assert!(r.pr(1).is_learner);
    assert!(r.is_learner);

    // r promoted again.
    r.apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeAddNode, 1))
        .unwrap();
    assert!(!r.pr(1).is_learner);
    assert!(!r.is_learner);
}

/// Adding a node does not make a check-quorum leader step down at once.
#[test]
fn test_add_node_check_quorum() {
    let mut r = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1])]));
    r.check_quorum = true;

    r.become_candidate();
    r.become_leader();

    let et = r.election_timeout;
    tick_n(&mut r, et - 1);

    r.apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeAddNode, 2))
        .unwrap();

    // This tick reaches the election timeout: a quorum check.
    r.tick();

    // Still leader after it.
    assert_eq!(r.state, StateRole::Leader);

    // Another election timeout without hearing from 2: it steps down.
    tick_n(&mut r, et);

    assert_eq!(r.state, StateRole::Follower);
}

#[test]
fn test_remove_node() {
    let mut r = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));
    r.apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeRemoveNode, 2))
        .unwrap();
    assert_eq!(r.trk.voter_nodes(), vec![1]);

    // Removing the last voter is refused (etcd panics; we return the error
    // and change nothing).
    let res = r.apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeRemoveNode, 1));
    assert!(res.is_err(), "removing the last voter was accepted");
    assert_eq!(r.trk.voter_nodes(), vec![1]);
}

#[test]
fn test_remove_learner() {
    let mut r = new_test_learner_raft(
        1,
        10,
        1,
        new_test_memory_storage(vec![with_peers(&[1]), with_learners(&[2])]),
    );
    r.apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeRemoveNode, 2))
        .unwrap();
    assert_eq!(r.trk.voter_nodes(), vec![1]);
    assert!(r.trk.learner_nodes().is_empty());

    // Removing the last voter is refused (etcd panics; we return the error
    // and change nothing).
    let res = r.apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeRemoveNode, 1));
    assert!(res.is_err(), "removing the last voter was accepted");
    assert_eq!(r.trk.voter_nodes(), vec![1]);
}

#[test]
fn test_promotable() {
    let id = 1;
    let cases: Vec<(Vec<u64>, bool)> = vec![
        (vec![1], true),
        (vec![1, 2, 3], true),
        (vec![], false),
        (vec![2, 3], false),
    ];
    for (i, (peers, wp)) in cases.into_iter().enumerate() {
        let r = new_test_raft(id, 5, 1, new_test_memory_storage(vec![with_peers(&peers)]));
        assert_eq!(r.promotable(), wp, "#{i}");
    }
}

#[test]
fn test_raft_nodes() {
    let cases = [
        (vec![1, 2, 3], vec![1, 2, 3]),
        (vec![3, 2, 1], vec![1, 2, 3]),
    ];
    for (i, (ids, wids)) in cases.into_iter().enumerate() {
        let r = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&ids)]));
        assert_eq!(r.trk.voter_nodes(), wids, "#{i}");
    }
}

#[test]
fn test_campaign_while_leader() {
    check_campaign_while_leader(false);
}

#[test]
fn test_pre_campaign_while_leader() {
    check_campaign_while_leader(true);
}

fn check_campaign_while_leader(pre_vote: bool) {
    let mut cfg = new_test_config(1, 5, 1);
    cfg.pre_vote = pre_vote;
    let mut r = new_raft(&cfg, new_test_memory_storage(vec![with_peers(&[1])]));
    assert_eq!(r.state, StateRole::Follower);
    // Through MsgHup rather than campaign(), which comes after the state
    // check.
    let _ = r.step(new_message(1, 1, MsgHup));
    r.advance_messages_after_append();
    assert_eq!(r.state, StateRole::Leader);

    let term = r.term;
    let _ = r.step(new_message(1, 1, MsgHup));
    r.advance_messages_after_append();
    assert_eq!(r.state, StateRole::Leader);
    assert_eq!(r.term, term);
}

/// Pending proposals can commit once a conf change lowers the quorum.
#[test]
fn test_commit_after_remove_node() {
    // A two-node group.
    let s = new_test_memory_storage(vec![with_peers(&[1, 2])]);
    let mut r = new_test_raft(1, 5, 1, s);
    r.become_candidate();
    r.become_leader();

    // Start removing the second node.
    let cc = ConfChange {
        change_type: ConfChangeType::ConfChangeRemoveNode as i32,
        node_id: 2,
        ..Default::default()
    };
    let cc_data = Bytes::from(cc.encode_to_vec());
    let _ = r.step(Message {
        entries: vec![Entry {
            entry_type: Some(EntryType::EntryConfChange as i32),
            data: cc_data,
            ..Default::default()
        }],
        ..Message::new(MsgProp)
    });

    // Persist the log; nothing is committed yet.
    assert!(r.next_ents().is_empty());
    let cc_index = r.raft_log.last_index();

    // Another proposal while the conf change is pending.
    let _ = r.step(Message {
        entries: vec![Entry {
            entry_type: Some(EntryType::EntryNormal as i32),
            data: Bytes::from_static(b"hello"),
            ..Default::default()
        }],
        ..Message::new(MsgProp)
    });

    // Node 2 acknowledges the conf change, committing it.
    let _ = r.step(Message {
        index: cc_index,
        ..new_message(2, 0, MsgAppResp)
    });
    let ents = r.next_ents();
    assert_eq!(ents.len(), 2);
    assert_eq!(ents[0].get_type(), EntryType::EntryNormal);
    assert!(ents[0].data.is_empty());
    assert_eq!(ents[1].get_type(), EntryType::EntryConfChange);

    // Applying the conf change lowers the quorum: the pending proposal
    // commits.
    r.apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeRemoveNode, 2))
        .unwrap();
    let ents = r.next_ents();
    assert_eq!(ents.len(), 1);
    assert_eq!(ents[0].get_type(), EntryType::EntryNormal);
    assert_eq!(&ents[0].data[..], b"hello");
}

/// etcd's `checkLeaderTransferState`.
fn check_leader_transfer_state(r: &TestRaft, state: StateRole, lead: u64) {
    assert_eq!(r.state, state);
    assert_eq!(r.lead, lead);
    assert_eq!(r.lead_transferee, 0);
}

/// A transfer to a transferee with an up-to-date log succeeds.
#[test]
fn test_leader_transfer_to_up_to_date_node() {
    transfer_to_up_to_date_node_and_back(1, 2);
}

/// Like the previous test, with every transfer request sent to the follower
/// instead of the leader.
#[test]
fn test_leader_transfer_to_up_to_date_node_from_follower() {
    transfer_to_up_to_date_node_and_back(2, 1);
}

/// Elects 1, transfers leadership to 2 with a request stepped into
/// `first_via`, replicates an entry, then transfers back to 1 with a request
/// stepped into `second_via`; each transfer must complete.
fn transfer_to_up_to_date_node_and_back(first_via: u64, second_via: u64) {
    let mut nt = Network::new(vec![Peer::Nil, Peer::Nil, Peer::Nil]);
    nt.send1(new_message(1, 1, MsgHup));

    assert_eq!(nt.peer(1).lead, 1);

    nt.send1(new_message(2, first_via, MsgTransferLeader));
    check_leader_transfer_state(nt.peer(1), StateRole::Follower, 2);

    // After some replication, transfer back to 1.
    nt.send1(empty_prop(1));
    nt.send1(new_message(1, second_via, MsgTransferLeader));
    check_leader_transfer_state(nt.peer(1), StateRole::Leader, 1);
}

/// A transfer works while the leader still holds its check-quorum lease.
#[test]
fn test_leader_transfer_with_check_quorum() {
    let mut nt = Network::new(vec![Peer::Nil, Peer::Nil, Peer::Nil]);
    for i in 1..4 {
        let r = nt.peer_mut(i);
        r.check_quorum = true;
        let et = r.election_timeout;
        r.set_randomized_election_timeout(et + i as usize);
    }

    // Let 2's election timeout elapse so that it votes for 1.
    let f = nt.peer_mut(2);
    let et = f.election_timeout;
    tick_n(f, et);

    nt.send1(new_message(1, 1, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);

    // Transfer to 2.
    nt.send1(new_message(2, 1, MsgTransferLeader));

    check_leader_transfer_state(nt.peer(1), StateRole::Follower, 2);

    // After some replication, transfer back to 1.
    nt.send1(empty_prop(1));

    nt.send1(new_message(1, 2, MsgTransferLeader));

    check_leader_transfer_state(nt.peer(1), StateRole::Leader, 1);
}

#[test]
fn test_leader_transfer_to_slow_follower() {
    let mut nt = Network::new(vec![Peer::Nil, Peer::Nil, Peer::Nil]);
    nt.send1(new_message(1, 1, MsgHup));

    nt.isolate(3);
    nt.send1(empty_prop(1));

    nt.recover();
    assert_eq!(nt.peer(1).pr(3).matched, 1);

    // Transfer to 3, whose log is behind.
    nt.send1(new_message(3, 1, MsgTransferLeader));

    check_leader_transfer_state(nt.peer(1), StateRole::Follower, 3);
}

#[test]
fn test_leader_transfer_after_snapshot() {
    use std::cell::RefCell;
    use std::rc::Rc;

    let mut nt = Network::new(vec![Peer::Nil, Peer::Nil, Peer::Nil]);
    nt.send1(new_message(1, 1, MsgHup));

    nt.isolate(3);

    nt.send1(empty_prop(1));
    let lead = nt.peer_mut(1);
    lead.next_ents();
    let applied = lead.raft_log.applied;
    let cs = ConfState {
        voters: lead.trk.voter_nodes(),
        ..Default::default()
    };
    lead.storage_mut()
        .create_snapshot(applied, Some(cs), Bytes::new())
        .unwrap();
    lead.storage_mut().compact(applied).unwrap();

    nt.recover();
    assert_eq!(nt.peer(1).pr(3).matched, 1);

    let filtered: Rc<RefCell<Option<Message>>> = Rc::default();
    // The snapshot must be applied before 3 acknowledges it.
    let f = filtered.clone();
    nt.msg_hook = Some(Box::new(move |m: &Message| {
        if m.get_type() != MsgAppResp || m.from != 3 || m.reject {
            return true;
        }
        *f.borrow_mut() = Some(m.clone());
        false
    }));
    // Transfer to 3, which lacks the snapshot.
    nt.send1(new_message(3, 1, MsgTransferLeader));
    assert_eq!(nt.peer(1).state, StateRole::Leader);
    let filtered = filtered
        .borrow_mut()
        .take()
        .expect("no MsgAppResp held back");

    // Apply the snapshot and resume.
    let follower = nt.peer_mut(3);
    let snap = follower.raft_log.next_unstable_snapshot().unwrap().clone();
    follower.storage_mut().apply_snapshot(snap.clone()).unwrap();
    follower.applied_snap(&snap);
    nt.msg_hook = None;
    nt.send1(filtered);

    check_leader_transfer_state(nt.peer(1), StateRole::Follower, 3);
}

#[test]
fn test_leader_transfer_to_self() {
    let mut nt = Network::new(vec![Peer::Nil, Peer::Nil, Peer::Nil]);
    nt.send1(new_message(1, 1, MsgHup));

    // A transfer to itself is a no-op.
    nt.send1(new_message(1, 1, MsgTransferLeader));
    check_leader_transfer_state(nt.peer(1), StateRole::Leader, 1);
}

#[test]
fn test_leader_transfer_to_non_existing_node() {
    let mut nt = Network::new(vec![Peer::Nil, Peer::Nil, Peer::Nil]);
    nt.send1(new_message(1, 1, MsgHup));

    // A transfer to a node that does not exist is a no-op.
    nt.send1(new_message(4, 1, MsgTransferLeader));
    check_leader_transfer_state(nt.peer(1), StateRole::Leader, 1);
}

/// Three fresh nodes, 1 elected, 3 cut off, and a transfer of leadership to
/// 3 asked of 1: the transfer stays pending, as 3 never answers. The start
/// of the tests of what ends such a transfer.
fn transfer_to_isolated_3() -> Network {
    let mut nt = Network::new(vec![Peer::Nil, Peer::Nil, Peer::Nil]);
    nt.send1(new_message(1, 1, MsgHup));
    nt.isolate(3);
    nt.send1(new_message(3, 1, MsgTransferLeader));
    nt
}

#[test]
fn test_leader_transfer_timeout() {
    // Transfer to the isolated node and wait for the timeout.
    let mut nt = transfer_to_isolated_3();
    assert_eq!(nt.peer(1).lead_transferee, 3);

    let lead = nt.peer_mut(1);
    let (ht, et) = (lead.heartbeat_timeout, lead.election_timeout);
    tick_n(lead, ht);
    assert_eq!(lead.lead_transferee, 3);

    tick_n(lead, et - ht);

    check_leader_transfer_state(nt.peer(1), StateRole::Leader, 1);
}

#[test]
fn test_leader_transfer_ignore_proposal() {
    let s = new_test_memory_storage(vec![with_peers(&[1, 2, 3])]);
    let r = new_test_raft(1, 10, 1, s);
    let mut nt = Network::new(vec![r.into(), Peer::Nil, Peer::Nil]);
    nt.send1(new_message(1, 1, MsgHup));

    nt.isolate(3);

    // Persist the empty entry.
    nt.peer_mut(1).next_ents();

    // A transfer to the isolated node stays pending; then a proposal.
    nt.send1(new_message(3, 1, MsgTransferLeader));
    assert_eq!(nt.peer(1).lead_transferee, 3);

    nt.send1(empty_prop(1));
    let err = nt.peer_mut(1).step(empty_prop(1));
    assert_eq!(err, Err(Error::ProposalDropped));

    assert_eq!(nt.peer(1).pr(1).matched, 1);
}

#[test]
fn test_leader_transfer_receive_higher_term_vote() {
    // A transfer to the isolated node stays pending.
    let mut nt = transfer_to_isolated_3();
    assert_eq!(nt.peer(1).lead_transferee, 3);

    nt.send1(Message {
        index: 1,
        term: 2,
        ..new_message(2, 2, MsgHup)
    });

    check_leader_transfer_state(nt.peer(1), StateRole::Follower, 2);
}

#[test]
fn test_leader_transfer_remove_node() {
    let mut nt = Network::new(vec![Peer::Nil, Peer::Nil, Peer::Nil]);
    nt.send1(new_message(1, 1, MsgHup));

    nt.ignore(MsgTimeoutNow);

    // The transferee is removed during the transfer.
    nt.send1(new_message(3, 1, MsgTransferLeader));
    assert_eq!(nt.peer(1).lead_transferee, 3);

    nt.peer_mut(1)
        .apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeRemoveNode, 3))
        .unwrap();

    check_leader_transfer_state(nt.peer(1), StateRole::Leader, 1);
}

#[test]
fn test_leader_transfer_demote_node() {
    let mut nt = Network::new(vec![Peer::Nil, Peer::Nil, Peer::Nil]);
    nt.send1(new_message(1, 1, MsgHup));

    nt.ignore(MsgTimeoutNow);

    // The transferee is demoted during the transfer.
    nt.send1(new_message(3, 1, MsgTransferLeader));
    assert_eq!(nt.peer(1).lead_transferee, 3);

    let lead = nt.peer_mut(1);
    lead.apply_conf_change(&ConfChangeV2 {
        changes: vec![
            ConfChangeSingle {
                change_type: ConfChangeType::ConfChangeRemoveNode as i32,
                node_id: 3,
            },
            ConfChangeSingle {
                change_type: ConfChangeType::ConfChangeAddLearnerNode as i32,
                node_id: 3,
            },
        ],
        ..Default::default()
    })
    .unwrap();

    // Leave the joint config.
    lead.apply_conf_change(&ConfChangeV2::default()).unwrap();
    check_leader_transfer_state(nt.peer(1), StateRole::Leader, 1);
}

/// A leader can take back a pending transfer.
#[test]
fn test_leader_transfer_back() {
    let mut nt = transfer_to_isolated_3();
    assert_eq!(nt.peer(1).lead_transferee, 3);

    // Transfer back to itself.
    nt.send1(new_message(1, 1, MsgTransferLeader));

    check_leader_transfer_state(nt.peer(1), StateRole::Leader, 1);
}

/// A leader can transfer to another node while a transfer is pending.
#[test]
fn test_leader_transfer_second_transfer_to_another_node() {
    let mut nt = transfer_to_isolated_3();
    assert_eq!(nt.peer(1).lead_transferee, 3);

    // Transfer to another node.
    nt.send1(new_message(2, 1, MsgTransferLeader));

    check_leader_transfer_state(nt.peer(1), StateRole::Follower, 2);
}

/// A second request to the same transferee does not extend the timeout of
/// the pending transfer.
#[test]
fn test_leader_transfer_second_transfer_to_same_node() {
    let mut nt = transfer_to_isolated_3();
    assert_eq!(nt.peer(1).lead_transferee, 3);

    let (ht, et) = (nt.peer(1).heartbeat_timeout, nt.peer(1).election_timeout);
    tick_n(nt.peer_mut(1), ht);
    // A second request to the same node.
    nt.send1(new_message(3, 1, MsgTransferLeader));

    tick_n(nt.peer_mut(1), et - ht);

    check_leader_transfer_state(nt.peer(1), StateRole::Leader, 1);
}

/// MsgTimeoutNow to a node removed from the group does nothing (it used to
/// panic on becoming leader when votes also arrived).
#[test]
fn test_transfer_non_member() {
    let mut r = new_test_raft(
        1,
        5,
        1,
        new_test_memory_storage(vec![with_peers(&[2, 3, 4])]),
    );
    let _ = r.step(new_message(2, 1, MsgTimeoutNow));

    let _ = r.step(new_message(2, 1, MsgVoteResp));
    let _ = r.step(new_message(3, 1, MsgVoteResp));
    assert_eq!(r.state, StateRole::Follower);
}

/// A node that was partitioned away (and fell behind) rejoins as the leader
/// is partitioned away; with pre-vote the group used to get stuck.
#[test]
fn test_node_with_smaller_term_can_complete_election() {
    let peers = three_peers(|r| {
        r.become_follower(1, 0);
        r.pre_vote = true;
    });

    // Partition node 3 away.
    let mut nt = Network::new(peers);
    nt.cut(1, 3);
    nt.cut(2, 3);

    nt.send1(new_message(1, 1, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert_eq!(nt.peer(2).state, StateRole::Follower);

    nt.send1(new_message(3, 3, MsgHup));
    assert_eq!(nt.peer(3).state, StateRole::PreCandidate);

    nt.send1(new_message(2, 2, MsgHup));

    assert_eq!(nt.peer(1).term, 3);
    assert_eq!(nt.peer(2).term, 3);
    assert_eq!(nt.peer(3).term, 1);

    assert_eq!(nt.peer(1).state, StateRole::Follower);
    assert_eq!(nt.peer(2).state, StateRole::Leader);
    assert_eq!(nt.peer(3).state, StateRole::PreCandidate);

    // Bring 3 back and at once isolate 2, the leader, as if it crashed.
    nt.recover();
    nt.cut(2, 1);
    nt.cut(2, 3);

    // Elections.
    nt.send1(new_message(3, 3, MsgHup));
    nt.send1(new_message(1, 1, MsgHup));

    // Is there a leader?
    assert!(nt.peer(1).state == StateRole::Leader || nt.peer(3).state == StateRole::Leader);
}

/// After a split vote the group elects a leader in the next round.
#[test]
fn test_pre_vote_with_split_vote() {
    let mut nt = Network::new(three_peers(|r| {
        r.become_follower(1, 0);
        r.pre_vote = true;
    }));
    nt.send1(new_message(1, 1, MsgHup));

    // The leader goes down; the followers split the vote.
    nt.isolate(1);
    nt.send(vec![new_message(2, 2, MsgHup), new_message(3, 3, MsgHup)]);

    assert_eq!(nt.peer(2).term, 3);
    assert_eq!(nt.peer(3).term, 3);

    assert_eq!(nt.peer(2).state, StateRole::Candidate);
    assert_eq!(nt.peer(3).state, StateRole::Candidate);

    // 2's election times out first.
    nt.send1(new_message(2, 2, MsgHup));

    assert_eq!(nt.peer(2).term, 4);
    assert_eq!(nt.peer(3).term, 4);

    assert_eq!(nt.peer(2).state, StateRole::Leader);
    assert_eq!(nt.peer(3).state, StateRole::Follower);
}

/// A pre-candidate runs the quorum check correctly.
#[test]
fn test_pre_vote_with_check_quorum() {
    let mut nt = Network::new(three_peers(|r| {
        r.become_follower(1, 0);
        r.pre_vote = true;
        r.check_quorum = true;
    }));
    nt.send1(new_message(1, 1, MsgHup));

    // Isolate 1; 2 and 3 know the leader.
    nt.isolate(1);

    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert_eq!(nt.peer(2).state, StateRole::Follower);
    assert_eq!(nt.peer(3).state, StateRole::Follower);

    // 2 ignores 3's pre-vote.
    nt.send1(new_message(3, 3, MsgHup));
    nt.send1(new_message(2, 2, MsgHup));

    // Is there a leader?
    assert!(nt.peer(2).state == StateRole::Leader || nt.peer(3).state == StateRole::Follower);
}

/// A learner does not campaign, on MsgHup or on MsgTimeoutNow.
#[test]
fn test_learner_campaign() {
    let mut n1 = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1])]));
    n1.apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeAddLearnerNode, 2))
        .unwrap();
    let mut n2 = new_test_raft(2, 10, 1, new_test_memory_storage(vec![with_peers(&[1])]));
    n2.apply_conf_change(&conf_change_v2(ConfChangeType::ConfChangeAddLearnerNode, 2))
        .unwrap();
    let mut nt = Network::new(vec![n1.into(), n2.into()]);
    nt.send1(new_message(2, 2, MsgHup));

    assert!(nt.peer(2).is_learner);

    assert_eq!(nt.peer(2).state, StateRole::Follower);

    nt.send1(new_message(1, 1, MsgHup));
    assert!(nt.peer(1).state == StateRole::Leader && nt.peer(1).lead == 1);

    // The transfer checks that the target is not a learner, but it may have
    // become one since: a MsgTimeoutNow it receives is ignored.
    nt.send1(new_message(1, 2, MsgTimeoutNow));
    assert_eq!(nt.peer(2).state, StateRole::Follower);
}

/// A group in the middle of a rolling update to pre-vote: n1 leads at term
/// 2, n2 follows at term 2, n3 is partitioned, a candidate at term 4 with a
/// shorter log.
fn new_pre_vote_migration_cluster() -> Network {
    let peers = (1..=3)
        .map(|id| {
            let mut r = three_voter_raft(id);
            r.become_follower(1, 0);
            // n3 does not use pre-vote yet: a mixed-version group during a
            // rolling restart.
            r.pre_vote = id != 3;
            r.into()
        })
        .collect();

    let mut nt = Network::new(peers);
    nt.send1(new_message(1, 1, MsgHup));

    // Partition n3 away.
    nt.isolate(3);
    nt.send1(prop_msg(1, b"some data"));
    nt.send1(new_message(3, 3, MsgHup));
    nt.send1(new_message(3, 3, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert_eq!(nt.peer(2).state, StateRole::Follower);
    assert_eq!(nt.peer(3).state, StateRole::Candidate);

    assert_eq!(nt.peer(1).term, 2);
    assert_eq!(nt.peer(2).term, 2);
    assert_eq!(nt.peer(3).term, 4);

    // n3 gets pre-vote too; heal the network.
    nt.peer_mut(3).pre_vote = true;
    nt.recover();

    nt
}

#[test]
fn test_pre_vote_migration_can_complete_election() {
    let mut nt = new_pre_vote_migration_cluster();

    // The leader goes down.
    nt.isolate(1);

    // n2 and n3 both campaign.
    nt.send1(new_message(3, 3, MsgHup));
    nt.send1(new_message(2, 2, MsgHup));

    assert_eq!(nt.peer(2).state, StateRole::Follower);
    assert_eq!(nt.peer(3).state, StateRole::PreCandidate);

    nt.send1(new_message(3, 3, MsgHup));
    nt.send1(new_message(2, 2, MsgHup));

    // Is there a leader?
    assert!(nt.peer(2).state == StateRole::Leader || nt.peer(3).state == StateRole::Follower);
}

#[test]
fn test_pre_vote_migration_with_free_stuck_pre_candidate() {
    let mut nt = new_pre_vote_migration_cluster();

    nt.send1(new_message(3, 3, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert_eq!(nt.peer(2).state, StateRole::Follower);
    assert_eq!(nt.peer(3).state, StateRole::PreCandidate);

    // Once more, for safety.
    nt.send1(new_message(3, 3, MsgHup));

    assert_eq!(nt.peer(1).state, StateRole::Leader);
    assert_eq!(nt.peer(2).state, StateRole::Follower);
    assert_eq!(nt.peer(3).state, StateRole::PreCandidate);

    let t = nt.peer(1).term;
    nt.send1(msg_term(1, 3, MsgHeartbeat, t));

    // The leader is disrupted, freeing the stuck pre-candidate.
    assert_eq!(nt.peer(1).state, StateRole::Follower);
    assert_eq!(nt.peer(3).term, nt.peer(1).term);
}

/// An unapplied conf change keeps a node from campaigning.
fn check_conf_change_check_before_campaign(v2: bool) {
    let mut nt = Network::new(vec![Peer::Nil, Peer::Nil, Peer::Nil]);
    nt.send1(new_message(1, 1, MsgHup));
    assert_eq!(nt.peer(1).state, StateRole::Leader);

    // Start removing node 2.
    let cc = ConfChange {
        change_type: ConfChangeType::ConfChangeRemoveNode as i32,
        node_id: 2,
        ..Default::default()
    };
    let (ty, cc_data) = if v2 {
        let ccv2 = conf_change_v2(ConfChangeType::ConfChangeRemoveNode, 2);
        (EntryType::EntryConfChangeV2, ccv2.encode_to_vec())
    } else {
        (EntryType::EntryConfChange, cc.encode_to_vec())
    };
    nt.send1(Message {
        entries: vec![Entry {
            entry_type: Some(ty as i32),
            data: cc_data.into(),
            ..Default::default()
        }],
        ..new_message(1, 1, MsgProp)
    });

    // Node 2's election times out...
    let n2 = nt.peer_mut(2);
    let rt = n2.randomized_election_timeout;
    tick_n(n2, rt);
    // ...but the committed conf change is not applied: it stays follower.
    assert_eq!(nt.peer(2).state, StateRole::Follower);

    // A transfer to 2...
    nt.send1(new_message(2, 1, MsgTransferLeader));
    assert_eq!(nt.peer(1).state, StateRole::Leader);
    // ...does not make it campaign either.
    assert_eq!(nt.peer(2).state, StateRole::Follower);

    // Abort the transfer.
    let n1 = nt.peer_mut(1);
    let et = n1.election_timeout;
    tick_n(n1, et);

    // Apply on 2.
    nt.peer_mut(2).next_ents();

    // Now the transfer to 2 works.
    nt.send1(new_message(2, 1, MsgTransferLeader));
    assert_eq!(nt.peer(1).state, StateRole::Follower);
    assert_eq!(nt.peer(2).state, StateRole::Leader);

    let n1 = nt.peer_mut(1);
    n1.next_ents();
    // And 1 campaigns once its election times out.
    let rt = n1.randomized_election_timeout;
    tick_n(n1, rt);
    assert_eq!(nt.peer(1).state, StateRole::Candidate);
}

/// An unapplied ConfChange is checked before campaigning.
#[test]
fn test_conf_change_check_before_campaign() {
    check_conf_change_check_before_campaign(false);
}

/// An unapplied ConfChangeV2 is checked before campaigning.
#[test]
fn test_conf_change_v2_check_before_campaign() {
    check_conf_change_check_before_campaign(true);
}

#[test]
fn test_fast_log_rejection() {
    struct Case {
        /// The leader's log.
        leader_log: Vec<Entry>,
        /// The follower's log.
        follower_log: Vec<Entry>,
        /// Where the follower's log is compacted (0: not at all).
        follower_compact: u64,
        /// The log term of the rejection hint.
        reject_hint_term: u64,
        /// The index of the rejection hint.
        reject_hint_index: u64,
        /// The log term of the leader's next append.
        next_append_term: u64,
        /// The index of the leader's next append.
        next_append_index: u64,
    }
    let case = |leader_log, follower_log, follower_compact, rht, rhi, nat, nai| Case {
        leader_log,
        follower_log,
        follower_compact,
        reject_hint_term: rht,
        reject_hint_index: rhi,
        next_append_term: nat,
        next_append_index: nai,
    };
    let cases = vec![
        // The leader finds the conflict quickly: it first appends at
        // (index 7, term 4), then at (3, 2).
        case(
            index(1).terms(&[1, 2, 2, 4, 4, 4, 4]),
            index(1).terms(&[1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3]),
            0,
            3,
            7,
            2,
            3,
        ),
        // Likewise: (8, 5), then (4, 3).
        case(
            index(1).terms(&[1, 2, 2, 3, 4, 4, 4, 5]),
            index(1).terms(&[1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3]),
            0,
            3,
            8,
            3,
            4,
        ),
        // The follower finds the conflict quickly: (4, 1), then (1, 1).
        case(
            index(1).terms(&[1, 1, 1, 1]),
            index(1).terms(&[1, 2, 2, 4]),
            0,
            1,
            1,
            1,
            1,
        ),
        // Likewise, with a longer uncommitted tail on the leader: (6, 1),
        // then (1, 1).
        case(
            index(1).terms(&[1, 1, 1, 1, 1, 1]),
            index(1).terms(&[1, 2, 2, 4]),
            0,
            1,
            1,
            1,
            1,
        ),
        // Likewise, with a longer uncommitted tail on the follower: (4, 1),
        // then (1, 1).
        case(
            index(1).terms(&[1, 1, 1, 1]),
            index(1).terms(&[1, 2, 2, 4, 4, 4]),
            0,
            1,
            1,
            1,
            1,
        ),
        // No conflict: (5, 5), then (4, 4).
        case(
            index(1).terms(&[1, 1, 1, 4, 5]),
            index(1).terms(&[1, 1, 1, 4]),
            0,
            4,
            4,
            4,
            4,
        ),
        // The example in the leader's step function.
        case(
            index(1).terms(&[2, 5, 5, 5, 5, 5, 5, 5, 5]),
            index(1).terms(&[2, 4, 4, 4, 4, 4]),
            0,
            4,
            6,
            2,
            1,
        ),
        // The example in the follower's append handling.
        case(
            index(1).terms(&[2, 2, 2, 2, 2]),
            index(1).terms(&[2, 4, 4, 4, 4, 4, 4, 4]),
            0,
            2,
            1,
            2,
            1,
        ),
        // A stale append (index 3, term 3, entries [(4, 3)]) reaches a
        // follower that compacted beyond index 3. The rejection keeps index 3
        // with log term 0; the leader goes back one entry and appends at
        // (2, 1).
        case(
            index(1).terms(&[1, 1, 3]),
            index(1).terms(&[1, 1, 3, 3, 3]),
            5,
            0,
            3,
            1,
            2,
        ),
    ];

    for (i, test) in cases.into_iter().enumerate() {
        let mut s1 = new_test_memory_storage(vec![with_peers(&[1, 2, 3])]);
        s1.append(&test.leader_log).unwrap();
        let last = test.leader_log.last().unwrap().clone();
        s1.set_hard_state(HardState {
            term: last.term - 1,
            commit: last.index,
            vote: 0,
        })
        .unwrap();
        let mut n1 = new_test_raft(1, 10, 1, s1);
        // Bumps the term to the last entry's.
        n1.become_candidate();
        n1.become_leader();

        let mut s2 = new_test_memory_storage(vec![with_peers(&[1, 2, 3])]);
        s2.append(&test.follower_log).unwrap();
        s2.set_hard_state(HardState {
            term: last.term,
            vote: 1,
            commit: 0,
        })
        .unwrap();
        let mut n2 = new_test_raft(2, 10, 1, s2);
        if test.follower_compact != 0 {
            // Not realistic (the commit index is still 0): this exercises an
            // edge case that should not happen, in case it does another way.
            n2.storage_mut().compact(test.follower_compact).unwrap();
        }

        n2.step(new_message(1, 2, MsgHeartbeat)).unwrap();
        let msgs = n2.read_messages();
        assert_eq!(msgs.len(), 1, "#{i}: can't read 1 message from peer 2");
        assert_eq!(msgs[0].get_type(), MsgHeartbeatResp, "#{i}");

        n1.step(msgs[0].clone()).unwrap();
        let msgs = n1.read_messages();
        assert_eq!(msgs.len(), 1, "#{i}: can't read 1 message from peer 1");
        assert_eq!(msgs[0].get_type(), MsgApp, "#{i}");

        n2.step(msgs[0].clone())
            .unwrap_or_else(|e| panic!("#{i}: peer 2 step append fail: {e}"));
        let msgs = n2.read_messages();
        assert_eq!(msgs.len(), 1, "#{i}: can't read 1 message from peer 2");
        assert_eq!(msgs[0].get_type(), MsgAppResp, "#{i}");
        assert!(
            msgs[0].reject,
            "#{i}: expected rejected append response from peer 2"
        );
        assert_eq!(
            msgs[0].log_term, test.reject_hint_term,
            "#{i}: hint log term mismatch"
        );
        assert_eq!(
            msgs[0].reject_hint, test.reject_hint_index,
            "#{i}: hint log index mismatch"
        );

        n1.step(msgs[0].clone())
            .unwrap_or_else(|e| panic!("#{i}: peer 1 step append fail: {e}"));
        let msgs = n1.read_messages();
        assert_eq!(msgs[0].log_term, test.next_append_term, "#{i}");
        assert_eq!(msgs[0].index, test.next_append_index, "#{i}");
    }
}

#[test]
fn test_log_replication_with_reordered_message() {
    let mut r1 = new_test_raft(1, 10, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));
    r1.become_candidate();
    r1.become_leader();
    r1.read_messages();
    r1.pr_mut(2).become_replicate();

    let mut r2 = new_test_raft(2, 10, 1, new_test_memory_storage(vec![with_peers(&[1, 2])]));

    // r1 sends two appends to r2.
    r1.must_append_entry(vec![entry_with_data(b"somedata")]);
    r1.send_append(2);
    let req1 = r1.expect_one_message();
    r1.must_append_entry(vec![entry_with_data(b"somedata")]);
    r1.send_append(2);
    let req2 = r1.expect_one_message();

    // Reordered: r2 gets the second first, and rejects it.
    let _ = r2.step(req2);
    let resp2 = r2.expect_one_message();
    assert!(resp2.reject);
    assert_eq!(resp2.reject_hint, 0);
    assert_eq!(resp2.index, 2);

    // r2 handles the first and answers; r1 updates the match index.
    let _ = r2.step(req1);
    let m = r2.expect_one_message();
    assert!(!m.reject);
    assert_eq!(m.index, 2);
    let _ = r1.step(m);
    let _ = r1.expect_one_message();
    assert_eq!(r1.pr(2).matched, 2);

    // A transient network problem: r1 probes r2.
    let _ = r1.step(new_message(2, 1, MsgUnreachable));
    assert_eq!(r1.pr(2).state, StateType::Probe);

    // The delayed rejection arrives.
    let _ = r1.step(resp2);
    let m = r1.expect_one_message();
    // r1 re-sends from the match index even though the hint is below it.
    assert_eq!(m.index, r1.pr(2).matched);
}
