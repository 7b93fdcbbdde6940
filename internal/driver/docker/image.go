package docker

import (
	"archive/tar"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"

	"github.com/ecsd/ecsd/internal/driver"
)

// EnsureDemoImage makes image ref (normally ecsd/demoapp:<tag>) exist in
// the engine without any registry: if it is missing, it imports a root
// filesystem holding only binaryPath as /ecsd, with
//
//	ENTRYPOINT ["/ecsd","demoapp"]
//	ENV PORT=8080 VERSION=<tag>
//	EXPOSE 8080/tcp
//
// binaryPath is an ecsd binary (or any binary whose `demoapp` subcommand
// runs demoapp.Main); a dynamically linked one brings its interpreter and
// shared libraries from the host into the image.
// A container health check can run `/ecsd demoapp check`.
func EnsureDemoImage(ctx context.Context, cli *client.Client, ref, binaryPath string) error {
	if _, err := cli.ImageInspect(ctx, ref); err == nil {
		return nil
	} else if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	libs, err := sharedLibraries(binaryPath)
	if err != nil {
		return err
	}
	tag := "latest"
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		tag = ref[i+1:]
	}

	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeRootFS(pw, binaryPath, libs)) }()
	defer pr.Close()
	resp, err := cli.ImageImport(ctx, client.ImageImportSource{Source: pr, SourceName: "-"}, ref, client.ImageImportOptions{
		Message: "ecsd demo app",
		Changes: []string{
			`ENTRYPOINT ["/ecsd","demoapp"]`,
			`ENV PORT=8080`,
			`ENV VERSION=` + tag,
			`EXPOSE 8080/tcp`,
			`LABEL com.ecsd.demoapp=true`,
		},
	})
	if err != nil {
		return fmt.Errorf("importing image %s: %w", ref, err)
	}
	defer resp.Close()
	if err := readJSONStream(resp); err != nil {
		return fmt.Errorf("importing image %s: %w", ref, err)
	}
	if _, err := cli.ImageInspect(ctx, ref); err != nil {
		return fmt.Errorf("image %s after import: %w", ref, err)
	}
	return nil
}

// sharedLibraries lists what a dynamically linked binary needs to run in
// an otherwise empty image: its program interpreter and the shared
// libraries it (and they) link, as host paths, which the image keeps at the
// same paths. A static binary needs none.
func sharedLibraries(path string) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	var visit func(file string, root bool) error
	visit = func(file string, root bool) error {
		f, err := elf.Open(file)
		if err != nil {
			return fmt.Errorf("demo binary %s: %w", file, err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type != elf.PT_INTERP || !root {
				continue
			}
			raw, err := io.ReadAll(p.Open())
			if err != nil {
				return fmt.Errorf("demo binary %s: reading its interpreter: %w", file, err)
			}
			interp := strings.TrimRight(string(raw), "\x00")
			if !seen[interp] {
				seen[interp] = true
				files = append(files, interp)
			}
		}
		needed, err := f.DynString(elf.DT_NEEDED)
		if err != nil {
			return nil // not dynamic
		}
		for _, lib := range needed {
			found := ""
			for _, dir := range libraryDirs {
				if _, err := os.Stat(filepath.Join(dir, lib)); err == nil {
					found = filepath.Join(dir, lib)
					break
				}
			}
			if found == "" {
				return fmt.Errorf("demo binary %s needs %s, which is not in %v; build ecsd with CGO_ENABLED=0", file, lib, libraryDirs)
			}
			if seen[found] {
				continue
			}
			seen[found] = true
			files = append(files, found)
			if err := visit(found, false); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(path, true); err != nil {
		return nil, err
	}
	return files, nil
}

var libraryDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}

// writeRootFS writes a tar holding binaryPath as /ecsd, the shared
// libraries it needs at their host paths, and an empty /tmp.
func writeRootFS(w io.Writer, binaryPath string, libs []string) error {
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777}); err != nil {
		return err
	}
	dirs := map[string]bool{}
	for _, lib := range libs {
		for d := filepath.Dir(lib); d != "/" && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted) // parents first
	for _, d := range sorted {
		if err := tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(d, "/") + "/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
			return err
		}
	}
	if err := addFile(tw, binaryPath, "ecsd", 0o755); err != nil {
		return err
	}
	for _, lib := range libs {
		if err := addFile(tw, lib, strings.TrimPrefix(lib, "/"), 0o755); err != nil {
			return err
		}
	}
	return tw.Close()
}

// addFile writes the file at path (following symlinks) into tw as name.
func addFile(tw *tar.Writer, path, name string, mode int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

// readJSONStream consumes an engine progress stream, returning the first
// error message in it.
func readJSONStream(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if m.Error != nil {
			return errors.New(m.Error.Message)
		}
	}
}

// ensureImage makes spec's image available: present → nothing to do; the
// demo image with a DemoBinary → EnsureDemoImage; otherwise pull. The
// returned error is the engine's message.
func (d *Driver) ensureImage(ctx context.Context, image string) error {
	if _, err := d.cli.ImageInspect(ctx, image); err == nil {
		return nil
	}
	if _, ok := driver.IsDemoImage(image); ok && d.demoBinary != "" {
		return EnsureDemoImage(ctx, d.cli, image, d.demoBinary)
	}
	resp, err := d.cli.ImagePull(ctx, image, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	return resp.Wait(ctx)
}

// engineMessage strips the client's "Error response from daemon: " prefix.
func engineMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "Error response from daemon: ")
}
