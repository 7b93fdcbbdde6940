package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bucket names one kind of record.
type Bucket string

// The buckets, one per kind of record.
const (
	Clusters           Bucket = "clusters"           // region/cluster
	TaskDefinitions    Bucket = "taskdefs"           // region/family/revision(10 digits)
	Families           Bucket = "families"           // region/family
	Services           Bucket = "services"           // region/cluster/service
	Tasks              Bucket = "tasks"              // region/cluster/taskID
	ServiceDeployments Bucket = "servicedeployments" // region/cluster/service/deploymentID
	meta               Bucket = "meta"
)

var allBuckets = append([]Bucket{Clusters, TaskDefinitions, Families, Services, Tasks, ServiceDeployments, meta}, elbBuckets...)

// SchemaVersion is the layout this ecsd writes.
const SchemaVersion = 1

// migrations[v] upgrades a data directory from version v to v+1.
var migrations = map[int]func(*bolt.Tx) error{}

// Change says a key was written or deleted by a committed transaction.
type Change struct {
	Bucket  Bucket
	Key     string
	Deleted bool
}

// Store is the durable state. It is safe for concurrent use.
type Store struct {
	db *bolt.DB

	mu   sync.Mutex
	subs []func([]Change)

	cache sync.Map // Bucket+"\x00"+key → *cached: decoded records for reads
}

// cached is a decoded record and the bytes it was decoded from: it is valid
// while the stored bytes are the same.
type cached struct {
	raw []byte
	val reflect.Value // a pointer to the decoded value
}

// Options tune how a store is opened.
type Options struct {
	// NoSync skips the fsync after each commit (bbolt's NoSync): no fsync:
	// for tests where durability is not what is tested. A committed write
	// survives the process being killed, but not the machine stopping.
	NoSync bool

	// lockWait is how long Open waits for another process to release the
	// data dir (zero: a second); tests shorten it.
	lockWait time.Duration
}

// ErrDamaged is what Open returns (wrapped, with the cause) for a database
// file that is truncated or whose pages are inconsistent.
var ErrDamaged = errors.New("the database file is damaged")

// Open opens (creating if needed) the store in dir, durably: every commit
// is on disk before Update returns.
func Open(dir string) (*Store, error) { return OpenWith(dir, Options{}) }

// OpenWith is Open with options. An existing database file is checked
// first (see check), so a truncated or corrupt file is refused with
// ErrDamaged instead of failing inside bbolt on every request.
func OpenWith(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating data dir: %w", err)
	}
	if opts.lockWait == 0 {
		opts.lockWait = time.Second
	}
	path := filepath.Join(dir, "ecsd.db")
	inUse := fmt.Errorf("data dir %s is in use by another ecsd; stop it or choose another --data-dir", dir)
	switch err := check(path, opts.lockWait); {
	case errors.Is(err, bolt.ErrTimeout):
		return nil, inUse
	case errors.Is(err, ErrDamaged):
		return nil, fmt.Errorf("%s: %w; ecsd cannot use it: move it aside (or restore it from a backup) and start again, or start with another --data-dir", path, err)
	case err != nil:
		return nil, fmt.Errorf("checking %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.lockWait, NoSync: opts.NoSync})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, inUse
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db.NoSync = opts.NoSync
	if err := db.Update(prepare); err != nil {
		db.Close()
		return nil, fmt.Errorf("preparing %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

func prepare(tx *bolt.Tx) error {
	for _, b := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
			return err
		}
	}
	m := tx.Bucket([]byte(meta))
	version := SchemaVersion
	if raw := m.Get([]byte("schema")); raw != nil {
		v, err := strconv.Atoi(string(raw))
		if err != nil {
			return fmt.Errorf("unreadable schema version %q", raw)
		}
		version = v
	}
	if version > SchemaVersion {
		return fmt.Errorf("the data dir was written by a newer ecsd (schema %d, this ecsd knows %d); use that ecsd or a new --data-dir", version, SchemaVersion)
	}
	for ; version < SchemaVersion; version++ {
		if err := migrations[version](tx); err != nil {
			return fmt.Errorf("migrating schema %d → %d: %w", version, version+1, err)
		}
	}
	return m.Put([]byte("schema"), []byte(strconv.Itoa(SchemaVersion)))
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Subscribe registers fn to be called, after each committed write, with the
// keys it changed. fn must not block.
func (s *Store) Subscribe(fn func([]Change)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, fn)
}

// Update runs fn in a read-write transaction, committed if fn returns nil.
// A panic inside the transaction (bbolt's, on a damaged page, or fn's)
// rolls it back and comes back as a *PanicError.
func (s *Store) Update(fn func(*Tx) error) error {
	t := &Tx{s: s, writable: true}
	err := guard(func() error {
		return s.db.Update(func(btx *bolt.Tx) error {
			t.tx = btx
			return fn(t)
		})
	})
	if err != nil || len(t.changes) == 0 {
		return err
	}
	s.mu.Lock()
	subs := s.subs
	s.mu.Unlock()
	for _, sub := range subs {
		sub(t.changes)
	}
	return nil
}

// View runs fn in a read-only transaction. A panic inside it comes back as
// a *PanicError, as with Update.
func (s *Store) View(fn func(*Tx) error) error {
	return guard(func() error {
		return s.db.View(func(btx *bolt.Tx) error { return fn(&Tx{tx: btx, s: s}) })
	})
}

// Tx is one transaction.
//
// Records read in a View transaction share memory with other readers'
// copies (the read cache, see Decode): their slices, maps and pointers are
// the cache's. A View must not modify what it reads in place: assigning a
// member of its own copy of a struct is fine (s := rec.Service; s.Tags =
// nil), writing through one is not (rec.Service.Deployments[0].Status = x,
// *rec.Task.LastStatus = x, append to a slice it read). To change a record,
// read it again in an Update: records read in an Update are private to it.
type Tx struct {
	tx       *bolt.Tx
	s        *Store
	writable bool
	changes  []Change
}

func (t *Tx) bucket(b Bucket) *bolt.Bucket { return t.tx.Bucket([]byte(b)) }

// Get decodes the record at key into v; found is false when there is none.
func (t *Tx) Get(b Bucket, key string, v any) (found bool, err error) {
	raw := t.bucket(b).Get([]byte(key))
	if raw == nil {
		return false, nil
	}
	return true, t.Decode(b, key, raw, v)
}

// Decode decodes the raw record of key (as Scan passes it) into v. In a View
// it reuses the decoded record while its bytes are unchanged, which makes
// repeated reads of the same records (DescribeServices) cheap: v then shares
// its slices, maps and pointers with every other View reader of the record
// (see Tx). In an Update it always decodes afresh.
func (t *Tx) Decode(b Bucket, key string, raw []byte, v any) error {
	if t.writable {
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("decoding %s %s: %w", b, key, err)
		}
		return nil
	}
	dst := reflect.ValueOf(v)
	ck := string(b) + "\x00" + key
	if e, ok := t.s.cache.Load(ck); ok {
		c := e.(*cached)
		if c.val.Type() == dst.Type() && bytes.Equal(c.raw, raw) {
			dst.Elem().Set(c.val.Elem())
			return nil
		}
	}
	fresh := reflect.New(dst.Type().Elem())
	if err := json.Unmarshal(raw, fresh.Interface()); err != nil {
		return fmt.Errorf("decoding %s %s: %w", b, key, err)
	}
	t.s.cache.Store(ck, &cached{raw: bytes.Clone(raw), val: fresh})
	dst.Elem().Set(fresh.Elem())
	return nil
}

// Put stores v at key.
func (t *Tx) Put(b Bucket, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s %s: %w", b, key, err)
	}
	if err := t.bucket(b).Put([]byte(key), raw); err != nil {
		return fmt.Errorf("writing %s %s: %w", b, key, err)
	}
	t.changes = append(t.changes, Change{Bucket: b, Key: key})
	return nil
}

// Delete removes key.
func (t *Tx) Delete(b Bucket, key string) error {
	if err := t.bucket(b).Delete([]byte(key)); err != nil {
		return fmt.Errorf("deleting %s %s: %w", b, key, err)
	}
	t.s.cache.Delete(string(b) + "\x00" + key)
	t.changes = append(t.changes, Change{Bucket: b, Key: key, Deleted: true})
	return nil
}

// ErrStop ends a Scan early without error.
var ErrStop = errors.New("stop scan")

// Scan calls fn for each key with the prefix, in key order, starting after
// the key `after` when it is not empty. fn decodes the record with Decode if
// it needs it; returning ErrStop ends the scan. raw is valid only during
// fn.
func (t *Tx) Scan(b Bucket, prefix, after string, fn func(key string, raw []byte) error) error {
	c := t.bucket(b).Cursor()
	p := []byte(prefix)
	from := prefix
	if after > prefix {
		from = after
	}
	k, v := c.Seek([]byte(from))
	if after != "" && k != nil && string(k) == after {
		k, v = c.Next()
	}
	for ; k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if err := fn(string(k), v); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// Decode decodes a raw record from Scan.
func Decode(raw []byte, v any) error { return json.Unmarshal(raw, v) }

// Each decodes every record of b under prefix, in key order, into a new T
// and calls fn with it; fn returning ErrStop ends the walk without error.
// rec is fn's to keep, but in a View it shares memory with other readers
// (see Tx). A caller that can reject most records from their bytes more
// cheaply than by decoding them uses Scan and Decode instead.
func Each[T any](tx *Tx, b Bucket, prefix string, fn func(key string, rec *T) error) error {
	return tx.Scan(b, prefix, "", func(key string, raw []byte) error {
		rec := new(T)
		if err := tx.Decode(b, key, raw, rec); err != nil {
			return err
		}
		return fn(key, rec)
	})
}
