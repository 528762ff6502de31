//! Port of etcd's `raft_paper_test.go`: the behaviours the raft paper
//! (sections 5.1-5.4) requires, one test per claim.

use std::collections::HashSet;

use super::support::*;
use crate::eraftpb::{Entry, HardState, Message, MessageType};
use crate::raft::StateRole;

#[test]
fn test_follower_update_term_from_message() {
    check_update_term_from_message(StateRole::Follower);
}

#[test]
fn test_candidate_update_term_from_message() {
    check_update_term_from_message(StateRole::Candidate);
}

#[test]
fn test_leader_update_term_from_message() {
    check_update_term_from_message(StateRole::Leader);
}

/// A server whose term is smaller than a message's takes the larger term;
/// a candidate or leader that learns its term is stale reverts to follower
/// (section 5.1).
fn check_update_term_from_message(state: StateRole) {
    let mut r = three_voter_raft(1);
    match state {
        StateRole::Follower => r.become_follower(1, 2),
        StateRole::Candidate => r.become_candidate(),
        StateRole::Leader => {
            r.become_candidate();
            r.become_leader();
        }
        _ => unreachable!(),
    }

    let mut m = Message::new(MessageType::MsgApp);
    m.term = 2;
    let _ = r.step(m);

    assert_eq!(r.term, 2);
    assert_eq!(r.state, StateRole::Follower);
}

/// A request with a stale term is not handled (section 5.1; etcd ignores it
/// rather than rejecting). etcd swaps in a fake per-state step function to
/// observe that it is not called; here the observable effects of that
/// function (a response, a log change) are checked to be absent.
#[test]
fn test_reject_stale_term_message() {
    let mut r = three_voter_raft(1);
    r.load_state(&HardState {
        term: 2,
        ..Default::default()
    })
    .unwrap();

    let mut m = Message::new(MessageType::MsgApp);
    m.term = r.term - 1;
    m.entries = index(1).terms(&[1]);
    let _ = r.step(m);

    assert!(r.read_messages().is_empty());
    assert_eq!(r.raft_log.last_index(), 0);
    assert_eq!(r.term, 2);
    assert_eq!(r.state, StateRole::Follower);
}

/// Servers start as followers (section 5.2).
#[test]
fn test_start_as_follower() {
    let r = three_voter_raft(1);
    assert_eq!(r.state, StateRole::Follower);
}

/// On a heartbeat tick the leader sends every follower a MsgHeartbeat with
/// no index, log term or entries (section 5.2).
#[test]
fn test_leader_bcast_beat() {
    // The heartbeat interval.
    let hi = 1;
    let mut r = new_test_raft(
        1,
        10,
        hi,
        new_test_memory_storage(vec![with_peers(&[1, 2, 3])]),
    );
    r.become_candidate();
    r.become_leader();
    for i in 0..10 {
        r.must_append_entry(vec![new_entry(i + 1, 0)]);
    }

    for _ in 0..hi {
        r.tick();
    }

    let mut msgs = r.read_messages();
    sort_messages(&mut msgs);
    let hb = |to| Message {
        term: 1,
        commit: 0,
        ..new_message(1, to, MessageType::MsgHeartbeat)
    };
    assert_eq!(msgs, vec![hb(2), hb(3)]);
}

#[test]
fn test_follower_start_election() {
    check_nonleader_start_election(StateRole::Follower);
}

#[test]
fn test_candidate_start_new_election() {
    check_nonleader_start_election(StateRole::Candidate);
}

/// A follower that hears nothing for an election timeout starts an election:
/// it bumps its term, becomes candidate, votes for itself and asks everyone
/// else for a vote. A candidate that fails to win does the same again
/// (section 5.2).
fn check_nonleader_start_election(state: StateRole) {
    // The election timeout.
    let et = 10;
    let mut r = new_test_raft(
        1,
        et,
        1,
        new_test_memory_storage(vec![with_peers(&[1, 2, 3])]),
    );
    match state {
        StateRole::Follower => r.become_follower(1, 2),
        StateRole::Candidate => r.become_candidate(),
        _ => unreachable!(),
    }

    for _ in 1..2 * et {
        r.tick();
    }
    r.advance_messages_after_append();

    assert_eq!(r.term, 2);
    assert_eq!(r.state, StateRole::Candidate);
    assert!(r.trk.votes.contains(&(r.id, true)));

    let mut msgs = r.read_messages();
    sort_messages(&mut msgs);
    let vote = |to| Message {
        term: 2,
        index: 0,
        log_term: 0,
        ..new_message(1, to, MessageType::MsgVote)
    };
    assert_eq!(msgs, vec![vote(2), vote(3)]);
}

/// All outcomes of one round of RequestVote: winning, losing, and neither
/// (section 5.2).
#[test]
fn test_leader_election_in_one_round_rpc() {
    type Case = (usize, Vec<(u64, bool)>, StateRole);
    let cases: Vec<Case> = vec![
        // A majority of votes wins.
        (1, vec![], StateRole::Leader),
        (3, vec![(2, true), (3, true)], StateRole::Leader),
        (3, vec![(2, true)], StateRole::Leader),
        (
            5,
            vec![(2, true), (3, true), (4, true), (5, true)],
            StateRole::Leader,
        ),
        (5, vec![(2, true), (3, true), (4, true)], StateRole::Leader),
        (5, vec![(2, true), (3, true)], StateRole::Leader),
        // A majority of rejections makes it a follower.
        (3, vec![(2, false), (3, false)], StateRole::Follower),
        (
            5,
            vec![(2, false), (3, false), (4, false), (5, false)],
            StateRole::Follower,
        ),
        (
            5,
            vec![(2, true), (3, false), (4, false), (5, false)],
            StateRole::Follower,
        ),
        // Without a majority either way it stays candidate.
        (3, vec![], StateRole::Candidate),
        (5, vec![(2, true)], StateRole::Candidate),
        (5, vec![(2, false), (3, false)], StateRole::Candidate),
        (5, vec![], StateRole::Candidate),
    ];
    for (i, (size, votes, state)) in cases.into_iter().enumerate() {
        let mut r = new_test_raft(
            1,
            10,
            1,
            new_test_memory_storage(vec![with_peers(&ids_by_size(size))]),
        );

        let _ = r.step(new_message(1, 1, MessageType::MsgHup));
        r.advance_messages_after_append();
        for (id, vote) in votes {
            let mut m = new_message(id, 1, MessageType::MsgVoteResp);
            m.term = r.term;
            m.reject = !vote;
            let _ = r.step(m);
        }

        assert_eq!(r.state, state, "#{i}");
        assert_eq!(r.term, 1, "#{i}");
    }
}

/// A follower votes for at most one candidate per term, first come first
/// served (section 5.2).
#[test]
fn test_follower_vote() {
    let cases = [
        (0, 2, false),
        (0, 3, false),
        (2, 2, false),
        (3, 3, false),
        (2, 3, true),
        (3, 2, true),
    ];
    for (i, (vote, nvote, wreject)) in cases.into_iter().enumerate() {
        let mut r = three_voter_raft(1);
        r.load_state(&HardState {
            term: 1,
            vote,
            commit: 0,
        })
        .unwrap();

        let mut m = new_message(nvote, 1, MessageType::MsgVote);
        m.term = 1;
        let _ = r.step(m);

        let expected = Message {
            term: 1,
            reject: wreject,
            ..new_message(1, nvote, MessageType::MsgVoteResp)
        };
        assert_eq!(r.msgs_after_append, vec![expected], "#{i}");
    }
}

/// A candidate that hears from a leader of at least its own term accepts it
/// and returns to follower (section 5.2).
#[test]
fn test_candidate_fallback() {
    for (i, term) in [1, 2].into_iter().enumerate() {
        let mut r = three_voter_raft(1);
        let _ = r.step(new_message(1, 1, MessageType::MsgHup));
        assert_eq!(r.state, StateRole::Candidate, "#{i}");

        let mut m = new_message(2, 1, MessageType::MsgApp);
        m.term = term;
        let _ = r.step(m);

        assert_eq!(r.state, StateRole::Follower, "#{i}");
        assert_eq!(r.term, term, "#{i}");
    }
}

#[test]
fn test_follower_election_timeout_randomized() {
    check_nonleader_election_timeout_randomized(StateRole::Follower);
}

#[test]
fn test_candidate_election_timeout_randomized() {
    check_nonleader_election_timeout_randomized(StateRole::Candidate);
}

/// The election timeout of followers and candidates is randomized over
/// `[et, 2*et)` (section 5.2).
fn check_nonleader_election_timeout_randomized(state: StateRole) {
    let et = 10;
    let mut r = new_test_raft(
        1,
        et,
        1,
        new_test_memory_storage(vec![with_peers(&[1, 2, 3])]),
    );
    let mut timeouts = HashSet::new();
    for _ in 0..50 * et {
        match state {
            StateRole::Follower => {
                let term = r.term + 1;
                r.become_follower(term, 2);
            }
            StateRole::Candidate => r.become_candidate(),
            _ => unreachable!(),
        }

        let mut time = 0;
        while r.read_messages().is_empty() {
            r.tick();
            time += 1;
        }
        timeouts.insert(time);
    }

    for d in et..2 * et {
        assert!(timeouts.contains(&d), "timeout in {d} ticks should happen");
    }
}

#[test]
fn test_followers_election_timeout_nonconflict() {
    check_nonleaders_election_timeout_nonconflict(StateRole::Follower);
}

#[test]
fn test_candidates_election_timeout_nonconflict() {
    check_nonleaders_election_timeout_nonconflict(StateRole::Candidate);
}

/// Thanks to randomization, usually only one server times out at a time,
/// which makes split votes unlikely (section 5.2).
fn check_nonleaders_election_timeout_nonconflict(state: StateRole) {
    let et = 10;
    let size = 5;
    let ids = ids_by_size(size);
    let mut rs: Vec<TestRaft> = ids
        .iter()
        .map(|&id| new_test_raft(id, et, 1, new_test_memory_storage(vec![with_peers(&ids)])))
        .collect();
    let mut conflicts = 0;
    for _ in 0..1000 {
        for r in rs.iter_mut() {
            match state {
                StateRole::Follower => {
                    let term = r.term + 1;
                    r.become_follower(term, 0);
                }
                StateRole::Candidate => r.become_candidate(),
                _ => unreachable!(),
            }
        }

        let mut timeout_num = 0;
        while timeout_num == 0 {
            for r in rs.iter_mut() {
                r.tick();
                if !r.read_messages().is_empty() {
                    timeout_num += 1;
                }
            }
        }
        // Several servers timed out on the same tick.
        if timeout_num > 1 {
            conflicts += 1;
        }
    }

    assert!(
        conflicts as f64 / 1000.0 <= 0.3,
        "too many conflicts: {conflicts}"
    );
}

/// The leader appends a proposal to its log, then sends it to every
/// follower along with the index and term of the entry before it; the new
/// entry is unstable until persisted (section 5.3).
#[test]
fn test_leader_start_replication() {
    let s = new_test_memory_storage(vec![with_peers(&[1, 2, 3])]);
    let mut r = new_test_raft(1, 10, 1, s);
    r.become_candidate();
    r.become_leader();
    r.commit_noop_entry();
    let li = r.raft_log.last_index();

    let _ = r.step(prop_msg(1, b"some data"));

    assert_eq!(r.raft_log.last_index(), li + 1);
    assert_eq!(r.raft_log.committed, li);
    let mut msgs = r.read_messages();
    sort_messages(&mut msgs);
    let wents = vec![Entry {
        data: "some data".into(),
        ..new_entry(li + 1, 1)
    }];
    let app = |to| Message {
        term: 1,
        index: li,
        log_term: 1,
        entries: wents.clone(),
        commit: li,
        ..new_message(1, to, MessageType::MsgApp)
    };
    assert_eq!(msgs, vec![app(2), app(3)]);
    assert_eq!(r.raft_log.next_unstable_ents(), &wents[..]);
}

/// Once an entry is replicated safely the leader commits it, hands it out
/// for applying, and tells the followers the new commit index in later
/// appends (section 5.3).
#[test]
fn test_leader_commit_entry() {
    let s = new_test_memory_storage(vec![with_peers(&[1, 2, 3])]);
    let mut r = new_test_raft(1, 10, 1, s);
    r.become_candidate();
    r.become_leader();
    r.commit_noop_entry();
    let li = r.raft_log.last_index();
    let _ = r.step(prop_msg(1, b"some data"));

    for m in r.read_messages() {
        let _ = r.step(accept_and_reply(&m));
    }

    assert_eq!(r.raft_log.committed, li + 1);
    let wents = vec![Entry {
        data: "some data".into(),
        ..new_entry(li + 1, 1)
    }];
    assert_eq!(r.raft_log.next_committed_ents(true), wents);
    let mut msgs = r.read_messages();
    sort_messages(&mut msgs);
    for (i, m) in msgs.iter().enumerate() {
        assert_eq!(m.to, i as u64 + 2);
        assert_eq!(m.get_type(), MessageType::MsgApp);
        assert_eq!(m.commit, li + 1);
    }
}

/// An entry is committed once the leader replicated it on a majority
/// (section 5.3).
#[test]
fn test_leader_acknowledge_commit() {
    let cases: Vec<(usize, Vec<u64>, bool)> = vec![
        (1, vec![], true),
        (3, vec![], false),
        (3, vec![2], true),
        (3, vec![2, 3], true),
        (5, vec![], false),
        (5, vec![2], false),
        (5, vec![2, 3], true),
        (5, vec![2, 3, 4], true),
        (5, vec![2, 3, 4, 5], true),
    ];
    for (i, (size, acceptors, wack)) in cases.into_iter().enumerate() {
        let s = new_test_memory_storage(vec![with_peers(&ids_by_size(size))]);
        let mut r = new_test_raft(1, 10, 1, s);
        r.become_candidate();
        r.become_leader();
        r.commit_noop_entry();
        let li = r.raft_log.last_index();
        let _ = r.step(prop_msg(1, b"some data"));
        r.advance_messages_after_append();
        for m in r.msgs.clone() {
            if acceptors.contains(&m.to) {
                let _ = r.step(accept_and_reply(&m));
            }
        }

        assert_eq!(r.raft_log.committed > li, wack, "#{i}");
    }
}

/// Committing an entry commits everything before it, entries of earlier
/// leaders included, and applies them in log order (section 5.3).
#[test]
fn test_leader_commit_preceding_entries() {
    let cases = vec![
        vec![],
        index(1).terms(&[2]),
        index(1).terms(&[1, 2]),
        index(1).terms(&[1]),
    ];
    for (i, tt) in cases.into_iter().enumerate() {
        let mut storage = new_test_memory_storage(vec![with_peers(&[1, 2, 3])]);
        storage.append(&tt).unwrap();
        let mut r = new_test_raft(1, 10, 1, storage);
        r.load_state(&HardState {
            term: 2,
            ..Default::default()
        })
        .unwrap();
        r.become_candidate();
        r.become_leader();
        let _ = r.step(prop_msg(1, b"some data"));

        for m in r.read_messages() {
            let _ = r.step(accept_and_reply(&m));
        }

        let li = tt.len() as u64;
        let mut wents = tt.clone();
        wents.push(new_entry(li + 1, 3));
        wents.push(Entry {
            data: "some data".into(),
            ..new_entry(li + 2, 3)
        });
        assert_eq!(r.raft_log.next_committed_ents(true), wents, "#{i}");
    }
}

/// A follower that learns an entry is committed applies it, in log order
/// (section 5.3).
#[test]
fn test_follower_commit_entry() {
    let e = |i, data: &'static str| Entry {
        data: data.into(),
        ..new_entry(i, 1)
    };
    let cases = vec![
        (vec![e(1, "some data")], 1),
        (vec![e(1, "some data"), e(2, "some data2")], 2),
        (vec![e(1, "some data2"), e(2, "some data")], 2),
        (vec![e(1, "some data"), e(2, "some data2")], 1),
    ];
    for (i, (ents, commit)) in cases.into_iter().enumerate() {
        let mut r = three_voter_raft(1);
        r.become_follower(1, 2);

        let m = Message {
            term: 1,
            entries: ents.clone(),
            commit,
            ..new_message(2, 1, MessageType::MsgApp)
        };
        let _ = r.step(m);

        assert_eq!(r.raft_log.committed, commit, "#{i}");
        assert_eq!(
            r.raft_log.next_committed_ents(true),
            ents[..commit as usize].to_vec(),
            "#{i}"
        );
    }
}

/// A follower refuses an append whose previous index and term do not match
/// its log, and accepts it otherwise (section 5.3).
#[test]
fn test_follower_check_msg_app() {
    let ents = index(1).terms(&[1, 2]);
    // (term, index, windex, wreject, wreject_hint, wlogterm)
    let cases = [
        // Matches a committed entry.
        (0, 0, 1, false, 0, 0),
        (ents[0].term, ents[0].index, 1, false, 0, 0),
        // Matches an uncommitted entry.
        (ents[1].term, ents[1].index, 2, false, 0, 0),
        // Conflicts with an existing entry.
        (ents[0].term, ents[1].index, ents[1].index, true, 1, 1),
        // Beyond the log.
        (
            ents[1].term + 1,
            ents[1].index + 1,
            ents[1].index + 1,
            true,
            2,
            2,
        ),
    ];
    for (i, (term, idx, windex, wreject, wreject_hint, wlogterm)) in cases.into_iter().enumerate() {
        let mut storage = new_test_memory_storage(vec![with_peers(&[1, 2, 3])]);
        storage.append(&ents).unwrap();
        let mut r = new_test_raft(1, 10, 1, storage);
        r.load_state(&HardState {
            commit: 1,
            ..Default::default()
        })
        .unwrap();
        r.become_follower(2, 2);

        let m = Message {
            term: 2,
            log_term: term,
            index: idx,
            ..new_message(2, 1, MessageType::MsgApp)
        };
        let _ = r.step(m);

        let mut expected = Message {
            term: 2,
            index: windex,
            ..new_message(1, 2, MessageType::MsgAppResp)
        };
        if wreject {
            expected.reject = true;
            expected.reject_hint = wreject_hint;
            expected.log_term = wlogterm;
        }
        assert_eq!(r.read_messages(), vec![expected], "#{i}");
    }
}

/// A valid append deletes conflicting entries and everything after them,
/// appends the new ones, and leaves them unstable until persisted
/// (section 5.3).
#[test]
fn test_follower_append_entries() {
    let cases = vec![
        (
            2,
            2,
            index(3).terms(&[3]),
            index(1).terms(&[1, 2, 3]),
            index(3).terms(&[3]),
        ),
        (
            1,
            1,
            index(2).terms(&[3, 4]),
            index(1).terms(&[1, 3, 4]),
            index(2).terms(&[3, 4]),
        ),
        (0, 0, index(1).terms(&[1]), index(1).terms(&[1, 2]), vec![]),
        (
            0,
            0,
            index(1).terms(&[3]),
            index(1).terms(&[3]),
            index(1).terms(&[3]),
        ),
    ];
    for (i, (idx, term, ents, wents, wunstable)) in cases.into_iter().enumerate() {
        let mut storage = new_test_memory_storage(vec![with_peers(&[1, 2, 3])]);
        storage.append(&index(1).terms(&[1, 2])).unwrap();
        let mut r = new_test_raft(1, 10, 1, storage);
        r.become_follower(2, 2);

        let m = Message {
            term: 2,
            log_term: term,
            index: idx,
            entries: ents,
            ..new_message(2, 1, MessageType::MsgApp)
        };
        let _ = r.step(m);

        assert_eq!(r.raft_log.all_entries(), wents, "#{i}");
        assert_eq!(r.raft_log.next_unstable_ents(), &wunstable[..], "#{i}");
    }
}

/// The leader brings a follower's log in line with its own (section 5.3,
/// figure 7).
#[test]
fn test_leader_sync_follower_log() {
    let ents = index(0).terms(&[0, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6]);
    let term = 8;
    let cases = vec![
        index(0).terms(&[0, 1, 1, 1, 4, 4, 5, 5, 6, 6]),
        index(0).terms(&[0, 1, 1, 1, 4, 4]),
        index(0).terms(&[0, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]),
        index(0).terms(&[0, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]),
        index(0).terms(&[0, 1, 1, 1, 4, 4, 4, 4]),
        index(0).terms(&[0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]),
    ];
    for (i, tt) in cases.into_iter().enumerate() {
        let mut lead_storage = new_test_memory_storage(vec![with_peers(&[1, 2, 3])]);
        lead_storage.append(&ents).unwrap();
        let mut lead = new_test_raft(1, 10, 1, lead_storage);
        let commit = lead.raft_log.last_index();
        lead.load_state(&HardState {
            commit,
            term,
            vote: 0,
        })
        .unwrap();
        let mut follower_storage = new_test_memory_storage(vec![with_peers(&[1, 2, 3])]);
        follower_storage.append(&tt).unwrap();
        let mut follower = new_test_raft(2, 10, 1, follower_storage);
        follower
            .load_state(&HardState {
                term: term - 1,
                ..Default::default()
            })
            .unwrap();
        // A three-node cluster: the follower may have the more up-to-date
        // log, so the leader needs the third node's vote.
        let mut n = Network::new(vec![lead.into(), follower.into(), NOP_STEPPER]);
        n.send1(new_message(1, 1, MessageType::MsgHup));
        // The election happens in the term after the loaded one.
        n.send1(Message {
            term: term + 1,
            ..new_message(3, 1, MessageType::MsgVoteResp)
        });

        n.send1(empty_prop(1));

        assert_eq!(ltoa(&n.peer(1).raft_log), ltoa(&n.peer(2).raft_log), "#{i}");
    }
}

/// A vote request carries the candidate's last index and term and goes to
/// every other node (section 5.4.1).
#[test]
fn test_vote_request() {
    let cases = vec![(index(1).terms(&[1]), 2), (index(1).terms(&[1, 2]), 3)];
    for (j, (ents, wterm)) in cases.into_iter().enumerate() {
        let mut r = three_voter_raft(1);
        let m = Message {
            term: wterm - 1,
            log_term: 0,
            index: 0,
            entries: ents.clone(),
            ..new_message(2, 1, MessageType::MsgApp)
        };
        let _ = r.step(m);
        r.read_messages();

        for _ in 1..r.election_timeout * 2 {
            r.tick_election();
        }

        let mut msgs = r.read_messages();
        sort_messages(&mut msgs);
        assert_eq!(msgs.len(), 2, "#{j}");
        let last = ents.last().unwrap();
        for (i, m) in msgs.iter().enumerate() {
            assert_eq!(m.get_type(), MessageType::MsgVote, "#{j}.{i}");
            assert_eq!(m.to, i as u64 + 2, "#{j}.{i}");
            assert_eq!(m.term, wterm, "#{j}.{i}");
            assert_eq!(m.index, last.index, "#{j}.{i}");
            assert_eq!(m.log_term, last.term, "#{j}.{i}");
        }
    }
}

/// A voter denies its vote when its own log is more up to date than the
/// candidate's (section 5.4.1).
#[test]
fn test_voter() {
    let cases = vec![
        // Same last term.
        (index(1).terms(&[1]), 1, 1, false),
        (index(1).terms(&[1]), 1, 2, false),
        (index(1).terms(&[1, 1]), 1, 1, true),
        // The candidate's last term is higher.
        (index(1).terms(&[1]), 2, 1, false),
        (index(1).terms(&[1]), 2, 2, false),
        (index(1).terms(&[1, 1]), 2, 1, false),
        // The voter's last term is higher.
        (index(1).terms(&[2]), 1, 1, true),
        (index(1).terms(&[2]), 1, 2, true),
        (index(1).terms(&[2, 2]), 1, 1, true),
        (index(1).terms(&[1, 1]), 1, 1, true),
    ];
    for (i, (ents, logterm, idx, wreject)) in cases.into_iter().enumerate() {
        let mut storage = new_test_memory_storage(vec![with_peers(&[1, 2])]);
        storage.append(&ents).unwrap();
        let mut r = new_test_raft(1, 10, 1, storage);

        let m = Message {
            term: 3,
            log_term: logterm,
            index: idx,
            ..new_message(2, 1, MessageType::MsgVote)
        };
        let _ = r.step(m);

        let msgs = r.read_messages();
        assert_eq!(msgs.len(), 1, "#{i}");
        assert_eq!(msgs[0].get_type(), MessageType::MsgVoteResp, "#{i}");
        assert_eq!(msgs[0].reject, wreject, "#{i}");
    }
}

/// Counting replicas commits an entry only when it belongs to the leader's
/// own term; older entries commit indirectly (section 5.4.2).
#[test]
fn test_leader_only_commits_log_from_current_term() {
    let ents = index(1).terms(&[1, 2]);
    let cases = [
        // Entries of earlier terms are not committed.
        (1, 0),
        (2, 0),
        // An entry of the current term is.
        (3, 3),
    ];
    for (i, (idx, wcommit)) in cases.into_iter().enumerate() {
        let mut storage = new_test_memory_storage(vec![with_peers(&[1, 2])]);
        storage.append(&ents).unwrap();
        let mut r = new_test_raft(1, 10, 1, storage);
        r.load_state(&HardState {
            term: 2,
            ..Default::default()
        })
        .unwrap();
        // Leader at term 3.
        r.become_candidate();
        r.become_leader();
        r.read_messages();
        // An entry of the current term.
        let _ = r.step(empty_prop(1));

        let m = Message {
            term: r.term,
            index: idx,
            ..new_message(2, 1, MessageType::MsgAppResp)
        };
        let _ = r.step(m);
        r.advance_messages_after_append();
        assert_eq!(r.raft_log.committed, wcommit, "#{i}");
    }
}
