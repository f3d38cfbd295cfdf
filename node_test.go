package assistant

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// nodeEval runs node once over inputs: for each input s it evaluates the
// JavaScript expression fn(s) and returns the results, which must be
// strings. Inputs and outputs travel as JSON arrays, so no character can be
// lost on the way. Without node the test skips, but only outside CI: node is
// on every machine of this project.
func nodeEval(t *testing.T, fn string, inputs []string) []string {
	t.Helper()
	if runtime.GOOS == "js" {
		t.Skip("js/wasm cannot start processes; the native run covers the differential tests")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node not found, but CI is set: the differential tests must run")
		}
		t.Skip("node not found; skipping differential test against JSON.stringify")
	}
	in, err := json.Marshal(inputs)
	if err != nil {
		t.Fatal(err)
	}
	script := `const fn = ` + fn + `;
let buf = [];
process.stdin.on('data', c => buf.push(c));
process.stdin.on('end', () => {
  const inputs = JSON.parse(Buffer.concat(buf).toString('utf8'));
  process.stdout.write(JSON.stringify(inputs.map(fn)));
});`
	cmd := exec.Command(node, "-e", script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var res []string
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node output: %v\n%s", err, out)
	}
	if len(res) != len(inputs) {
		t.Fatalf("node returned %d results for %d inputs", len(res), len(inputs))
	}
	return res
}
