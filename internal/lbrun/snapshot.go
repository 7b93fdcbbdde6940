package lbrun

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/ecsd/ecsd/internal/store"
)

// snapshot is the stored ELBv2 state a pass works from, read in one
// transaction. Its records share memory with the store's read cache: a
// pass reads them and never changes them.
type snapshot struct {
	groups    map[string]storedGroup    // by target group ARN
	listeners map[string]storedListener // by listener ARN
	inUse     map[string]bool           // target groups a listener or rule forwards to
	// health is the last known health of targets, by store key; read on
	// the first pass of a run only.
	health map[string]store.TargetHealthRecord
}

type storedGroup struct {
	key string // region/name
	rec store.TargetGroupRecord
}

type storedListener struct {
	key   string // region/lbName/listenerID
	rec   store.ListenerRecord
	rules []types.Rule // non-default rules
}

func (r *Runner) read(withHealth bool) (*snapshot, error) {
	st := &snapshot{groups: map[string]storedGroup{}, listeners: map[string]storedListener{}, inUse: map[string]bool{}}
	err := r.store.View(func(tx *store.Tx) error {
		err := tx.Scan(store.TargetGroups, "", "", func(key string, raw []byte) error {
			var rec store.TargetGroupRecord
			if err := tx.Decode(store.TargetGroups, key, raw, &rec); err != nil {
				return err
			}
			st.groups[aws.ToString(rec.TargetGroup.TargetGroupArn)] = storedGroup{key, rec}
			return nil
		})
		if err != nil {
			return err
		}
		byKey := map[string]string{} // listener key → ARN
		err = tx.Scan(store.Listeners, "", "", func(key string, raw []byte) error {
			var rec store.ListenerRecord
			if err := tx.Decode(store.Listeners, key, raw, &rec); err != nil {
				return err
			}
			arn := aws.ToString(rec.Listener.ListenerArn)
			byKey[key] = arn
			st.listeners[arn] = storedListener{key: key, rec: rec}
			st.use(rec.Listener.DefaultActions)
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Scan(store.ListenerRules, "", "", func(key string, raw []byte) error {
			var rec store.ListenerRuleRecord
			if err := tx.Decode(store.ListenerRules, key, raw, &rec); err != nil {
				return err
			}
			arn, ok := byKey[parentKey(key)]
			if !ok {
				return nil // a rule of a deleted listener
			}
			l := st.listeners[arn]
			l.rules = append(l.rules, rec.Rule)
			st.listeners[arn] = l
			st.use(rec.Rule.Actions)
			return nil
		})
		if err != nil || !withHealth {
			return err
		}
		st.health = map[string]store.TargetHealthRecord{}
		return tx.Scan(store.TargetHealth, "", "", func(key string, raw []byte) error {
			var rec store.TargetHealthRecord
			if err := tx.Decode(store.TargetHealth, key, raw, &rec); err != nil {
				return err
			}
			st.health[key] = rec
			return nil
		})
	})
	return st, err
}

func (st *snapshot) use(actions []types.Action) {
	for _, arn := range ActionTargetGroups(actions) {
		st.inUse[arn] = true
	}
}
