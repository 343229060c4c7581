//! Fuzzes the monitoring-rules reader (TOML and JSON): any text gives a
//! checked rule set or a `RulesError`, never a panic, and an accepted rule
//! set survives a round trip through its canonical JSON.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_monitor::RuleSet;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for rules in [RuleSet::from_toml(text), RuleSet::from_json(text)]
        .into_iter()
        .flatten()
    {
        let again = RuleSet::from_stored_json(&rules.to_json()).expect("stored rules read back");
        assert_eq!(again, rules);
    }
});
