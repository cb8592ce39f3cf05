package deploy

import (
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// domainPackages hold the product's rules. They reach AWS, the web and chat
// only through interfaces that adapters (shared/store, shared/mail/ses,
// shared/sales/slack, shared/httpapi ...) implement, so the rules can be
// read, tested and changed without any of them.
var domainPackages = []string{"lead", "nurture", "scoring", "engagement", "sales", "program", "link", "token", "mail", "metrics", "limit", "report"}

// foreign tells the imports the domain must not pull in, even indirectly.
func foreign(path string) bool {
	return strings.HasPrefix(path, "github.com/aws/") || path == "net/http" || strings.HasPrefix(path, "net/http/")
}

func TestDomain_pullsInNeitherAWSNorHTTP(t *testing.T) {
	for _, name := range domainPackages {
		pkg := modulePath + "/shared/" + name
		imports := importGraph(t, pkg)
		// Only where the domain's imports cross over: what lies beyond
		// goes with it.
		for _, p := range slices.Sorted(maps.Keys(imports)) {
			for _, dep := range imports[p] {
				if !foreign(p) && foreign(dep) {
					t.Errorf("shared/%s depends on %s: %s", name, dep, strings.Join(importChain(imports, pkg, dep), " -> "))
				}
			}
		}
	}
}

// importGraph is what go list -deps says pkg and everything under it import.
func importGraph(t *testing.T, pkg string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, pkg)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %s: %v\n%s", pkg, err, ee.Stderr)
		}
		t.Fatalf("go list %s: %v", pkg, err)
	}
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		graph[f[0]] = f[1:]
	}
	if _, ok := graph[pkg]; !ok {
		t.Fatalf("go list -deps %s does not list the package itself", pkg)
	}
	return graph
}

// importChain is a shortest path of imports from one package to another,
// which says where to cut.
func importChain(graph map[string][]string, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == to {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append(chain, strings.TrimPrefix(p, modulePath+"/"))
			}
			slices.Reverse(chain)
			return chain
		}
		for _, next := range graph[p] {
			if _, seen := prev[next]; !seen {
				prev[next] = p
				queue = append(queue, next)
			}
		}
	}
	return []string{from, "?", to}
}
