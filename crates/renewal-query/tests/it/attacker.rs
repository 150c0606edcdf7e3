//! The disclosure attacker (issue 11 §1).

mod solver;
