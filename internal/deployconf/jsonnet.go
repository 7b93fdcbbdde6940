package deployconf

import (
	"fmt"

	"github.com/google/go-jsonnet"
	"github.com/google/go-jsonnet/ast"
)

// evalJsonnet evaluates a Jsonnet (or JSON) file with the config's ext
// vars and the native functions env and must_env.
func (c *Config) evalJsonnet(path string) (string, error) {
	vm := jsonnet.MakeVM()
	for k, v := range c.extStr {
		vm.ExtVar(k, v)
	}
	for k, v := range c.extCode {
		vm.ExtCode(k, v)
	}
	vm.NativeFunction(&jsonnet.NativeFunction{
		Name:   "env",
		Params: ast.Identifiers{"name", "default"},
		Func: func(args []any) (any, error) {
			name, ok := args[0].(string)
			if !ok {
				return nil, fmt.Errorf("env: name must be a string")
			}
			if v, ok := c.env.lookup(name); ok {
				return v, nil
			}
			return args[1], nil
		},
	})
	vm.NativeFunction(&jsonnet.NativeFunction{
		Name:   "must_env",
		Params: ast.Identifiers{"name"},
		Func: func(args []any) (any, error) {
			name, ok := args[0].(string)
			if !ok {
				return nil, fmt.Errorf("must_env: name must be a string")
			}
			if v, ok := c.env.lookup(name); ok {
				return v, nil
			}
			return nil, fmt.Errorf("must_env: environment variable %s is not set; set it or put it in an --envfile", name)
		},
	})
	out, err := vm.EvaluateFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: evaluating Jsonnet failed (ext vars are passed with --ext-str/--ext-code): %w", path, err)
	}
	return out, nil
}
