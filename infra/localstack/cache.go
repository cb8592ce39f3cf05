// Package localstack starts the real local servers the product is developed
// and tested against: DynamoDB Local (Java), aws-ses-v2-local (Node) and,
// for the settle queue's adapter, an SQS emulator (moto, Python). They
// are installed by `make deps` into the cache folder; this package only runs
// them, so `make run` and the tests use exactly the same binaries.
//
// Every server runs in its own process group and is killed when the parent
// dies (Linux), so an interrupted test run leaves nothing listening.
package localstack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CacheEnv names the variable that points at the cache folder. The Makefile
// sets it, so `make deps CACHE=/elsewhere` and `make test CACHE=/elsewhere`
// agree; without it the cache is <repo root>/.cache.
const CacheEnv = "NURTURE_CACHE"

// Paths inside the cache, as the Makefile lays them out.
var (
	dynamoJar = filepath.Join("dynamodb", "DynamoDBLocal.jar")
	dynamoLib = filepath.Join("dynamodb", "DynamoDBLocal_lib")
	sesCLI    = filepath.Join("node", "node_modules", "aws-ses-v2-local", "dist", "cli.js")
)

// CacheDir returns the folder `make deps` installed the local servers into:
// $NURTURE_CACHE if set, else .cache at the repository root (the first folder
// holding a go.mod, walking up from the working directory, so it works from
// a package folder under `go test` too). It fails, telling the user to run
// `make deps`, when the servers are not installed there.
func CacheDir() (string, error) {
	dir, err := cacheDir()
	if err != nil {
		return "", err
	}
	var missing []string
	for _, p := range []string{dynamoJar, dynamoLib, sesCLI} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("local servers are not installed in %s (missing %s): run make deps", dir, strings.Join(missing, ", "))
	}
	return dir, nil
}

func cacheDir() (string, error) {
	if dir := os.Getenv(CacheEnv); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", fmt.Errorf("%s=%q: %w", CacheEnv, dir, err)
		}
		return abs, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".cache"), nil
}

func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("find repository root: %w", err)
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("find repository root: no go.mod in %s or above; run from inside the repository or set %s", wd, CacheEnv)
		}
	}
}
