package deploy

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// What the code reads, found by reading the code: the template tests
// compare it with infra/template.yaml, so a new environment variable, a new
// function or a new client a function builds fails a test until the
// template has it too.

const modulePath = "github.com/leadnurture/nurture"

// configPkg is the package every function reads its settings with.
const configPkg = modulePath + "/shared/config"

// functionFolders lists functions/<name> that hold a main package.
func functionFolders(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(root, "functions", e.Name(), "main.go")); err == nil {
				names = append(names, e.Name())
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("no functions/<name>/main.go")
	}
	return names
}

// Usage is what one function's code needs from its environment.
type Usage struct {
	// Env maps each environment variable the function reads to where.
	Env map[string]string
	// Calls holds the config.Config methods its main calls (DynamoDB, SES,
	// LoadTokenKeys ...) and the config functions that read the environment
	// (LoadWebhookURL): each client it builds needs IAM permissions.
	Calls map[string]bool
}

// functionUsage reads functions/<name> and the module packages it imports,
// as built for Lambda (linux/arm64, -tags lambda.norpc).
func functionUsage(t testing.TB, name string) Usage {
	t.Helper()
	u, err := usageOnce(name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var (
	usageMu    sync.Mutex
	usageCache = map[string]Usage{}
)

func usageOnce(name string) (Usage, error) {
	usageMu.Lock()
	defer usageMu.Unlock()
	if u, ok := usageCache[name]; ok {
		return u, nil
	}
	u, err := scanFunction(name)
	if err == nil {
		usageCache[name] = u
	}
	return u, err
}

type goPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
}

func listDeps(pkg string) ([]goPackage, error) {
	cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc",
		"-f", "{{.ImportPath}}\t{{.Dir}}\t{{join .GoFiles \" \"}}", pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return nil, fmt.Errorf("go list %s: %v\n%s", pkg, err, ee.Stderr)
		}
		return nil, fmt.Errorf("go list %s: %v", pkg, err)
	}
	var pkgs []goPackage
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 || (f[0] != modulePath && !strings.HasPrefix(f[0], modulePath+"/")) {
			continue
		}
		pkgs = append(pkgs, goPackage{ImportPath: f[0], Dir: f[1], GoFiles: strings.Fields(f[2])})
	}
	return pkgs, nil
}

func parseFiles(fset *token.FileSet, p goPackage) ([]*ast.File, error) {
	var files []*ast.File
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

func scanFunction(name string) (Usage, error) {
	u := Usage{Env: map[string]string{}, Calls: map[string]bool{}}
	pkgs, err := listDeps("./functions/" + name)
	if err != nil {
		return u, err
	}
	fset := token.NewFileSet()
	var cfg *configScan
	var mains []*ast.File
	for _, p := range pkgs {
		files, err := parseFiles(fset, p)
		if err != nil {
			return u, err
		}
		switch {
		case p.ImportPath == configPkg:
			if cfg, err = scanConfig(fset, files); err != nil {
				return u, err
			}
		default:
			// shared/app is every function's composition root: what it
			// builds, each function that uses it builds.
			if p.ImportPath == modulePath+"/functions/"+name || p.ImportPath == modulePath+"/shared/app" {
				mains = append(mains, files...)
			}
			// Any other package of ours that reads the environment reads it
			// for every function that imports it.
			consts := stringConsts(files)
			for _, f := range files {
				for _, r := range envReads(fset, f, consts) {
					if r.name == "" {
						return u, fmt.Errorf("%s: os.%s with a name that is not a string constant; the template checks need to know it", r.pos, r.fn)
					}
					u.Env[r.name] = r.pos
				}
			}
		}
	}
	if len(mains) == 0 {
		return u, fmt.Errorf("functions/%s: no Go files", name)
	}
	if cfg == nil {
		return u, nil
	}
	// The settings the main actually uses, through config.Config.
	use := func(env, where string) {
		if _, ok := u.Env[env]; !ok {
			u.Env[env] = where
		}
	}
	useField := func(field, where string) {
		if env := cfg.envOfField[field]; env != "" {
			use(env, where)
		}
	}
	for _, f := range mains {
		// A Config is what config.Load returns, or a parameter of type
		// config.Config (app.Load takes the one its main read).
		cfgVars := map[string]bool{}
		cfgParams := map[*ast.Ident]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				if len(n.Rhs) == 1 && isPkgCall(n.Rhs[0], "config", "Load") {
					if id, ok := n.Lhs[0].(*ast.Ident); ok {
						cfgVars[id.Name] = true
					}
				}
			case *ast.FuncType:
				for _, fl := range n.Params.List {
					typ := fl.Type
					if star, ok := typ.(*ast.StarExpr); ok {
						typ = star.X
					}
					if sel, ok := typ.(*ast.SelectorExpr); ok && sel.Sel.Name == "Config" {
						if x, ok := sel.X.(*ast.Ident); ok && x.Name == "config" {
							for _, name := range fl.Names {
								cfgVars[name.Name] = true
								cfgParams[name] = true
							}
						}
					}
				}
			}
			return true
		})
		if len(cfgVars) == 0 {
			continue
		}
		asSelector := map[*ast.Ident]bool{}
		for id := range cfgParams {
			asSelector[id] = true // the declaration is no use
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				if len(n.Rhs) == 1 && isPkgCall(n.Rhs[0], "config", "Load") {
					if id, ok := n.Lhs[0].(*ast.Ident); ok {
						asSelector[id] = true
					}
				}
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				x, ok := sel.X.(*ast.Ident)
				if !ok {
					return true
				}
				where := fset.Position(n.Pos()).String()
				switch {
				case cfgVars[x.Name] && sel.Sel.Name == "Require":
					// Require names the variables it needs.
					for _, a := range n.Args {
						if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, _ := strconv.Unquote(lit.Value)
							use(v, where)
						}
					}
					u.Calls["Require"] = true
					asSelector[x] = true
				case x.Name == "config":
					for env := range cfg.funcEnv[sel.Sel.Name] {
						use(env, where)
					}
					if len(cfg.funcEnv[sel.Sel.Name]) > 0 {
						u.Calls[sel.Sel.Name] = true // e.g. LoadWebhookURL
					}
				}
			case *ast.SelectorExpr:
				x, ok := n.X.(*ast.Ident)
				if !ok || !cfgVars[x.Name] {
					return true
				}
				asSelector[x] = true
				where := fset.Position(n.Pos()).String()
				name := n.Sel.Name
				switch {
				case cfg.fields[name]:
					useField(name, where)
				case name == "Require":
				case cfg.methodFields[name] != nil || cfg.methodEnv[name] != nil:
					u.Calls[name] = true
					for field := range cfg.methodFields[name] {
						useField(field, where)
					}
					for env := range cfg.methodEnv[name] {
						use(env, where)
					}
				}
			}
			return true
		})
		// A Config handed on whole could be read anywhere: count every
		// setting as used.
		var bare []string
		ast.Inspect(f, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && cfgVars[id.Name] && !asSelector[id] {
				bare = append(bare, fset.Position(id.Pos()).String())
			}
			return true
		})
		for _, where := range bare {
			for field := range cfg.envOfField {
				useField(field, where)
			}
		}
	}
	return u, nil
}

func isPkgCall(e ast.Expr, pkg, fn string) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == pkg && sel.Sel.Name == fn
}

type envRead struct {
	fn, name, pos string
	call          *ast.CallExpr
}

// envReads finds os.Getenv and os.LookupEnv calls; name is "" when the
// argument is not a string literal or constant.
func envReads(fset *token.FileSet, n ast.Node, consts map[string]string) []envRead {
	var reads []envRead
	ast.Inspect(n, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "os" || (sel.Sel.Name != "Getenv" && sel.Sel.Name != "LookupEnv") {
			return true
		}
		r := envRead{fn: sel.Sel.Name, pos: fset.Position(call.Pos()).String(), call: call}
		switch a := call.Args[0].(type) {
		case *ast.BasicLit:
			if a.Kind == token.STRING {
				r.name, _ = strconv.Unquote(a.Value)
			}
		case *ast.Ident:
			r.name = consts[a.Name]
		}
		reads = append(reads, r)
		return true
	})
	return reads
}

// stringConsts maps the package's string constants to their values.
func stringConsts(files []*ast.File) map[string]string {
	consts := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[id.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
		}
	}
	return consts
}

// configScan is what shared/config reads and which of its methods use what.
type configScan struct {
	fields       map[string]bool            // Config's fields
	envOfField   map[string]string          // field -> the variable Load reads into it
	methodFields map[string]map[string]bool // method -> fields it reads, through other methods too
	methodEnv    map[string]map[string]bool // method -> variables it reads itself (AWS_REGION ...)
	funcEnv      map[string]map[string]bool // package function -> variables it reads
}

func scanConfig(fset *token.FileSet, files []*ast.File) (*configScan, error) {
	c := &configScan{
		fields: map[string]bool{}, envOfField: map[string]string{},
		methodFields: map[string]map[string]bool{}, methodEnv: map[string]map[string]bool{},
		funcEnv: map[string]map[string]bool{},
	}
	consts := stringConsts(files)
	calls := map[string]map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
				for _, s := range gd.Specs {
					ts := s.(*ast.TypeSpec)
					if st, ok := ts.Type.(*ast.StructType); ok && ts.Name.Name == "Config" {
						for _, fl := range st.Fields.List {
							for _, n := range fl.Names {
								c.fields[n.Name] = true
							}
						}
					}
				}
			}
		}
	}
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			name := fd.Name.Name
			if fd.Recv == nil {
				if name == "Load" {
					if err := c.scanLoad(fset, fd, consts); err != nil {
						return nil, err
					}
					continue
				}
				env := map[string]bool{}
				for _, r := range envReads(fset, fd.Body, consts) {
					if r.name == "" {
						return nil, fmt.Errorf("%s: os.%s with a name that is not a string constant", r.pos, r.fn)
					}
					env[r.name] = true
				}
				c.funcEnv[name] = env
				continue
			}
			recv := ""
			if len(fd.Recv.List) == 1 && len(fd.Recv.List[0].Names) == 1 {
				recv = fd.Recv.List[0].Names[0].Name
			}
			fields, env, called := map[string]bool{}, map[string]bool{}, map[string]bool{}
			for _, r := range envReads(fset, fd.Body, consts) {
				if r.name == "" {
					return nil, fmt.Errorf("%s: os.%s with a name that is not a string constant", r.pos, r.fn)
				}
				env[r.name] = true
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == recv {
						if c.fields[sel.Sel.Name] {
							fields[sel.Sel.Name] = true
						} else {
							called[sel.Sel.Name] = true
						}
					}
				}
				return true
			})
			c.methodFields[name], c.methodEnv[name], calls[name] = fields, env, called
		}
	}
	// Methods calling methods: close over the calls.
	for changed := true; changed; {
		changed = false
		for m, called := range calls {
			for callee := range called {
				for f := range c.methodFields[callee] {
					if !c.methodFields[m][f] {
						c.methodFields[m][f], changed = true, true
					}
				}
				for e := range c.methodEnv[callee] {
					if !c.methodEnv[m][e] {
						c.methodEnv[m][e], changed = true, true
					}
				}
			}
		}
	}
	if len(c.envOfField) == 0 {
		return nil, fmt.Errorf("shared/config: found no Load reading the environment")
	}
	return c, nil
}

// scanLoad maps each variable Load reads to the Config field it fills:
// TableName: os.Getenv("TABLE_NAME"), c.X = ...os.Getenv("Y")..., or
// if v := os.Getenv("Y"); ... { ...c.X... }.
func (c *configScan) scanLoad(fset *token.FileSet, fd *ast.FuncDecl, consts map[string]string) error {
	recv := ""
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok && len(as.Rhs) == 1 && recv == "" {
			if cl, ok := as.Rhs[0].(*ast.CompositeLit); ok {
				if id, ok := cl.Type.(*ast.Ident); ok && id.Name == "Config" {
					if lhs, ok := as.Lhs[0].(*ast.Ident); ok {
						recv = lhs.Name
					}
				}
			}
		}
		return true
	})
	mapped := map[*ast.CallExpr]bool{}
	set := func(field string, reads []envRead) {
		for _, r := range reads {
			if r.name != "" && c.fields[field] {
				c.envOfField[field] = r.name
				mapped[r.call] = true
			}
		}
	}
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CompositeLit:
			if id, ok := n.Type.(*ast.Ident); ok && id.Name == "Config" {
				for _, e := range n.Elts {
					if kv, ok := e.(*ast.KeyValueExpr); ok {
						if key, ok := kv.Key.(*ast.Ident); ok {
							set(key.Name, envReads(fset, kv.Value, consts))
						}
					}
				}
			}
		case *ast.AssignStmt:
			if len(n.Lhs) == 1 {
				if sel, ok := n.Lhs[0].(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == recv {
						for _, rhs := range n.Rhs {
							set(sel.Sel.Name, envReads(fset, rhs, consts))
						}
					}
				}
			}
		case *ast.IfStmt:
			if n.Init == nil {
				return true
			}
			reads := envReads(fset, n.Init, consts)
			if len(reads) == 0 {
				return true
			}
			field := ""
			ast.Inspect(n.Body, func(m ast.Node) bool {
				if sel, ok := m.(*ast.SelectorExpr); ok && field == "" {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == recv && c.fields[sel.Sel.Name] {
						field = sel.Sel.Name
					}
				}
				return field == ""
			})
			set(field, reads)
		}
		return true
	})
	var unmapped []string
	for _, r := range envReads(fset, fd.Body, consts) {
		if !mapped[r.call] {
			unmapped = append(unmapped, fmt.Sprintf("%s (%s)", r.name, r.pos))
		}
	}
	if len(unmapped) > 0 {
		sort.Strings(unmapped)
		return fmt.Errorf("config.Load reads %s into no Config field this test can see: "+
			"assign it to a field (c.Field = os.Getenv(...), or if v := os.Getenv(...); ... { c.Field = ... })",
			strings.Join(unmapped, ", "))
	}
	return nil
}
