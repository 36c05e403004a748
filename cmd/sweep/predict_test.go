package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sweep"
	"testing"

	"sweep/mnist"
)

// TestTrainThenPredict: sweep train -o writes weights; sweep predict reads
// them and three test images written out as PNG files, and prints a line
// per image with its digit, probability and sum. Bad arguments exit 2.
func TestTrainThenPredict(t *testing.T) {
	dir := t.TempDir()
	weights := filepath.Join(dir, "model.safetensors")
	out, errOut, code := sweepCmd(t, "train", "-train-size", "512", "-epochs", "1", "-batch-size", "32", "-o", weights)
	if code != 0 || !strings.Contains(out, "weights: "+weights) {
		t.Fatalf("train -o: exit %d\n%s\n%s", code, out, errOut)
	}
	mdir, err := mnist.Find("")
	if err != nil {
		t.Fatal(err)
	}
	_, test, err := mnist.Load(mdir)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i := range 3 {
		img := image.NewGray(image.Rect(0, 0, mnist.Cols, mnist.Rows))
		copy(img.Pix, test.Image(i))
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, writeFile(t, dir, string(rune('a'+i))+".png", buf.String()))
	}
	out, errOut, code = sweepCmd(t, append([]string{"predict", "--weights", weights, "--addend", "3"}, paths...)...)
	if code != 0 {
		t.Fatalf("predict: exit %d\n%s", code, errOut)
	}
	line := regexp.MustCompile(`(?m)^.+\.png: digit [0-9] \(p [01]\.[0-9]{3}\), \+ 3: sum [0-9]+ \(p [01]\.[0-9]{3}\)$`)
	if n := len(line.FindAllString(out, -1)); n != 3 {
		t.Errorf("want 3 prediction lines, got:\n%s", out)
	}
	for _, bad := range [][]string{
		{"predict", "a.png"},
		{"predict", "--weights", weights, "--addend", "12", paths[0]},
		{"predict", "--weights", weights},
	} {
		if _, _, code := sweepCmd(t, bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
	if _, errOut, code := sweepCmd(t, "predict", "--weights", weights, filepath.Join(dir, "missing.png")); code != 1 || !strings.Contains(errOut, "missing.png") {
		t.Errorf("missing picture: exit %d, %q", code, errOut)
	}
	os.WriteFile(filepath.Join(dir, "junk.png"), []byte("junk"), 0o644)
	if _, errOut, code := sweepCmd(t, "predict", "--weights", weights, filepath.Join(dir, "junk.png")); code != 1 || !strings.Contains(errOut, "junk.png: mnist: decode image") {
		t.Errorf("junk picture: exit %d, %q", code, errOut)
	}
}

// TestExportWeightsOfRun: a run trained by 'sweep run' has its weights in
// the database; 'sweep export --weights RUN' writes them and 'sweep
// predict --run RUN' reads them, with the same answers as predicting from
// the exported file.
func TestExportWeightsOfRun(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sweep.db")
	f := writeFile(t, dir, "w.toml", tinySweep("w", ""))
	if _, errOut, code := sweepCmd(t, "run", "--db", db, "--progress", "none", f); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	runs, err := openTestStore(t, db).Runs(t.Context(), sweep.RunFilter{Sweep: "w"})
	if err != nil || len(runs) != 2 {
		t.Fatal(len(runs), err)
	}
	id := runs[0].RunID
	weights := filepath.Join(dir, "w.safetensors")
	_, errOut, code := sweepCmd(t, "export", "--db", db, "--weights", id[:6], "-o", weights)
	if code != 0 || !strings.Contains(errOut, "weights of run "+id+" (done, after epoch 1 of 1)") {
		t.Fatalf("export --weights: exit %d: %s", code, errOut)
	}
	img := image.NewGray(image.Rect(0, 0, mnist.Cols, mnist.Rows))
	for i := range img.Pix {
		img.Pix[i] = byte(i % 251)
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	pic := writeFile(t, dir, "p.png", buf.String())
	fromFile, errOut, code := sweepCmd(t, "predict", "--weights", weights, "--addend", "4", pic)
	if code != 0 {
		t.Fatalf("predict --weights: exit %d: %s", code, errOut)
	}
	fromRun, errOut, code := sweepCmd(t, "predict", "--db", db, "--run", id, "--addend", "4", pic)
	if code != 0 || fromRun != fromFile || !strings.Contains(fromRun, "digit ") {
		t.Errorf("predict --run: exit %d %s\n%q\nwant\n%q", code, errOut, fromRun, fromFile)
	}
	if _, errOut, code := sweepCmd(t, "export", "--db", db, "--weights", "ffffffffffff"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("export of a missing run: exit %d: %s", code, errOut)
	}
}
