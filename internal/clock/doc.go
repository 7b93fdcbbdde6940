// Package clock makes time a dependency.
//
// Code that schedules work (health-check intervals, stop timeouts, rollout
// deadlines) takes a [Clock] instead of calling time.Now, time.After or
// time.Sleep directly. Production code passes [Real]; tests pass a [Fake]
// and move time forward explicitly with [Fake.Advance], so they never sleep
// and never depend on how fast the machine is.
//
// Vocabulary:
//   - deadline: the instant a timer or ticker is due.
//   - waiter: an armed timer, ticker or After channel on a [Fake]; the
//     number of waiters lets a test wait, without sleeping, until the code
//     under test has reached the point where it blocks on the clock
//     ([Fake.BlockUntil]).
//
// Fake semantics follow Tailscale's tstest clock: Advance walks time forward
// from deadline to deadline, firing every timer that falls due in deadline
// order (ties in creation order), with Now reporting that timer's deadline
// while it fires. Timers created or reset by a callback during Advance fire
// in the same Advance if they fall due before its end.
package clock
