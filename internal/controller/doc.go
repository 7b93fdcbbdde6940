// Package controller moves stored state toward what callers asked for. It is
// level-triggered: it reacts to store changes by re-reading state, so a
// missed or repeated notification does no harm.
//
// Today it finishes service deletion: a DRAINING service whose tasks have all
// stopped becomes INACTIVE, as in ECS.
package controller
