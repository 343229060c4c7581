//! Property tests of the lifecycle state machine and the sign-off rules.

use std::collections::BTreeSet;

use proptest::prelude::*;
use vigil_domain::{
    Decision, LifecycleState, NonEmptyText, Role, SignOff, SignOffPolicy, TransitionError,
    TransitionRequest, decide,
};

fn any_state() -> impl Strategy<Value = LifecycleState> {
    proptest::sample::select(LifecycleState::ALL.to_vec())
}

fn any_role() -> impl Strategy<Value = Role> {
    proptest::sample::select(Role::ALL.to_vec())
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_767_225_600).unwrap()
}

fn request(
    from: LifecycleState,
    to: LifecycleState,
    roles: impl IntoIterator<Item = Role>,
) -> TransitionRequest {
    TransitionRequest {
        from,
        to,
        sign_offs: roles
            .into_iter()
            .map(|role| SignOff {
                actor: NonEmptyText::parse(&format!("signer-{role}")).unwrap(),
                role,
            })
            .collect(),
        rationale: NonEmptyText::parse("Property test.").unwrap(),
        evidence: Vec::new(),
        proposed_by_alert: false,
    }
}

/// Decides a transition signed by exactly the roles the default policy
/// requires.
fn decide_fully_signed(
    from: LifecycleState,
    to: LifecycleState,
    radiotherapy: bool,
) -> Result<Decision, TransitionError> {
    let policy = SignOffPolicy::default();
    let roles = policy.required_roles(from, to, radiotherapy);
    decide(request(from, to, roles), &policy, radiotherapy, now())
}

#[test]
fn the_graph_has_the_documented_shape() {
    use LifecycleState::*;
    for state in LifecycleState::ALL {
        assert!(!state.can_move_to(state), "{state} moves to itself");
        assert_eq!(state.can_move_to(Retired), state != Retired);
        assert!(!state.can_move_to(Proposed), "nothing returns to proposed");
    }
    assert!(Retired.allowed_targets().is_empty());
    // Every state is reachable from proposed, and live is reachable from
    // every state but retired.
    let reachable_from = |start: LifecycleState| {
        let mut seen = BTreeSet::from([start]);
        let mut frontier = vec![start];
        while let Some(state) = frontier.pop() {
            for next in state.allowed_targets() {
                if seen.insert(next) {
                    frontier.push(next);
                }
            }
        }
        seen
    };
    assert_eq!(reachable_from(Proposed).len(), LifecycleState::ALL.len());
    for state in LifecycleState::ALL {
        assert_eq!(reachable_from(state).contains(&Live), state != Retired);
    }
}

proptest! {
    #[test]
    fn a_fully_signed_request_succeeds_exactly_when_the_transition_is_allowed(
        from in any_state(),
        to in any_state(),
        radiotherapy in any::<bool>(),
    ) {
        match decide_fully_signed(from, to, radiotherapy) {
            Ok(decision) => {
                prop_assert!(from.can_move_to(to));
                prop_assert_eq!((decision.from, decision.to), (from, to));
                prop_assert_eq!(decision.decided_at, now());
            }
            Err(TransitionError::NotAllowed { from: error_from, to: error_to, allowed }) => {
                prop_assert!(!from.can_move_to(to));
                prop_assert_eq!((error_from, error_to), (from, to));
                prop_assert_eq!(allowed, from.allowed_targets());
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }

    #[test]
    fn every_allowed_transition_needs_a_signature(
        from in any_state(),
        radiotherapy in any::<bool>(),
    ) {
        for to in from.allowed_targets() {
            let required = SignOffPolicy::default().required_roles(from, to, radiotherapy);
            prop_assert!(!required.is_empty());
            let unsigned = decide(request(from, to, []), &SignOffPolicy::default(), radiotherapy, now());
            let is_missing_sign_off = matches!(unsigned, Err(TransitionError::MissingSignOff { .. }));
            prop_assert!(is_missing_sign_off);
        }
    }

    #[test]
    fn missing_lists_exactly_the_required_roles_not_signed(
        from in any_state(),
        to in any_state(),
        signed in proptest::collection::btree_set(any_role(), 0..5),
        radiotherapy in any::<bool>(),
    ) {
        prop_assume!(from.can_move_to(to));
        let policy = SignOffPolicy::default();
        let required = policy.required_roles(from, to, radiotherapy);
        let expected_missing: Vec<Role> = required
            .iter()
            .copied()
            .filter(|role| !signed.contains(role))
            .collect();
        let outcome = decide(request(from, to, signed.iter().copied()), &policy, radiotherapy, now());
        if expected_missing.is_empty() {
            let decision = outcome.unwrap();
            // Extra signatures are kept, sorted by role.
            let roles: Vec<Role> = decision.sign_offs.iter().map(|sign_off| sign_off.role).collect();
            prop_assert_eq!(roles, signed.iter().copied().collect::<Vec<_>>());
        } else {
            prop_assert_eq!(
                outcome.unwrap_err(),
                TransitionError::MissingSignOff { from, to, missing: expected_missing }
            );
        }
    }

    #[test]
    fn the_order_of_sign_offs_does_not_change_the_decision(
        roles in proptest::collection::vec(any_role(), 0..6).prop_shuffle(),
        seed in any::<u64>(),
    ) {
        use LifecycleState::*;
        let mut all = SignOffPolicy::default().required_roles(Shadow, Live, true);
        all.extend(roles);
        all.sort();
        all.dedup();
        let forward = decide(request(Shadow, Live, all.clone()), &SignOffPolicy::default(), true, now());
        let mut rotated = all.clone();
        let length = rotated.len();
        rotated.rotate_left(usize::try_from(seed % length as u64).unwrap());
        rotated.reverse();
        let backward = decide(request(Shadow, Live, rotated), &SignOffPolicy::default(), true, now());
        prop_assert_eq!(forward.unwrap(), backward.unwrap());
    }

    #[test]
    fn an_alert_completes_nothing_but_a_suspension(
        from in any_state(),
        to in any_state(),
    ) {
        let policy = SignOffPolicy::default();
        let mut alerted = request(from, to, policy.required_roles(from, to, false));
        alerted.proposed_by_alert = true;
        let outcome = decide(alerted, &policy, false, now());
        if (from, to) == (LifecycleState::Live, LifecycleState::Suspended) {
            prop_assert!(outcome.is_ok());
        } else {
            prop_assert!(outcome.is_err());
        }
    }

    #[test]
    fn random_walks_follow_the_lifecycle_and_retirement_is_final(
        attempts in proptest::collection::vec(any_state(), 0..40),
        radiotherapy in any::<bool>(),
    ) {
        let mut state = LifecycleState::Proposed;
        let mut history = vec![state];
        for to in attempts {
            match decide_fully_signed(state, to, radiotherapy) {
                Ok(decision) => {
                    prop_assert_eq!(decision.from, state);
                    prop_assert!(state != LifecycleState::Retired);
                    state = decision.to;
                    history.push(state);
                }
                Err(TransitionError::NotAllowed { .. }) => {
                    prop_assert!(!state.can_move_to(to));
                }
                Err(other) => prop_assert!(false, "unexpected error {other}"),
            }
        }
        // Once retired, nothing follows.
        if let Some(position) = history.iter().position(|&state| state == LifecycleState::Retired) {
            prop_assert_eq!(position, history.len() - 1);
        }
        // Live is never entered except from shadow or suspended.
        for pair in history.windows(2) {
            if pair[1] == LifecycleState::Live {
                prop_assert!(matches!(pair[0], LifecycleState::Shadow | LifecycleState::Suspended));
            }
        }
    }
}
