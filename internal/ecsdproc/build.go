package ecsdproc

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Build builds ./cmd/ecsd of the module the working directory is in into
// dir/ecsd and returns its path. The binary is static (CGO_ENABLED=0), as a
// release is, so the docker runtime can copy it into the demo image.
//
// dir "" is a directory (under os.TempDir) shared by every test package of
// this checkout of the module, kept between runs: go build leaves an
// up-to-date binary as it is, so `go test ./...` links ecsd once, and not
// again until its sources change. A lock file makes concurrent builds into
// one dir wait for each other.
func Build(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	if dir == "" {
		sum := sha256.Sum256([]byte(root))
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("ecsdproc-%d", os.Getuid()), hex.EncodeToString(sum[:6]))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lock(filepath.Join(dir, "build.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	bin := filepath.Join(dir, "ecsd")
	build := exec.Command("go", "build", "-o", bin, "./cmd/ecsd")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/ecsd: %w\n%s", err, out)
	}
	return bin, nil
}

// moduleRoot is the directory of the go.mod the working directory is under.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", errors.New("cannot build ecsd: the working directory is not inside the ecsd module (run from the module, or give the binary)")
	}
	return filepath.Dir(gomod), nil
}

// lock takes an exclusive lock on the file at path (created if needed),
// waiting for it, and returns its release.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}
