package model

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"slices"
	"testing"

	"sweep"
	"sweep/mnist"
	"sweep/safetensors"
)

// TestExportPredictAgrees trains a small run, exports its weights, and
// predicts the first 1,000 test images written out as PNG files and read
// back as a user's pictures would be: every prediction equals the
// trainer's own, and the digit and sum accuracies equal its evaluation of
// the same images. The exported file has the PyTorch module's names and
// shapes (fc1.weight is [50, 320], transposed from the model's [320, 50]).
func TestExportPredictAgrees(t *testing.T) {
	train, test := data(t)
	for _, head := range []sweep.Head{sweep.HeadClassify, sweep.HeadRegression} {
		s := settings(head)
		s.TrainSize, s.Epochs, s.BatchSize = 2000, 1, 32
		rec := &epochRecorder{}
		first := TestSplit(test.Slice(1000))
		if err := Train(t.Context(), Config{Settings: s, Checkpoints: true}, TrainSplit(train, s.Seed), first, rec); err != nil {
			t.Fatal(err)
		}
		ckpt := rec.epochs[0].Checkpoint
		var file bytes.Buffer
		if err := ExportWeights(&file, s, ckpt); err != nil {
			t.Fatal(err)
		}
		tensors, meta, err := safetensors.Read(bytes.NewReader(file.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, st := range tensors {
			names = append(names, st.Name)
		}
		if want := ExportNames(s); !slices.Equal(names, want) || meta["format"] != "pt" {
			t.Errorf("%s: tensors %v, metadata %v; want %v", head, names, meta, want)
		}
		if fc1, _ := safetensors.Find(tensors, "fc1.weight"); !slices.Equal(fc1.Shape, []int{50, 320}) {
			t.Errorf("fc1.weight shape %v, want [50 320]", fc1.Shape)
		}

		p, err := LoadPredictor(bytes.NewReader(file.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		var images [][]byte
		for i := range first.Len() {
			img := image.NewGray(image.Rect(0, 0, mnist.Cols, mnist.Rows))
			copy(img.Pix, first.Image(i))
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			px, err := mnist.FromImage(&buf)
			if err != nil {
				t.Fatal(err)
			}
			images = append(images, px)
		}
		got, err := p.Predict(images, first.Addends)
		if err != nil {
			t.Fatal(err)
		}
		// The run's own trainer, restored from the same checkpoint.
		own, err := NewTrainer(Config{Settings: s})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := own.Restore(ckpt); err != nil {
			t.Fatal(err)
		}
		want, err := own.Predict(first)
		if err != nil {
			t.Fatal(err)
		}
		digits, sums := 0, 0
		for i := range got {
			a, b := got[i], want[i]
			if a.Digit != b.Digit || a.DigitProb != b.DigitProb || a.Sum != b.Sum || (a.SumProb != b.SumProb && !math.IsNaN(a.SumProb)) {
				t.Fatalf("%s: image %d: predicted %+v, the run's own %+v", head, i, a, b)
			}
			if a.Digit == int(first.Labels[i]) {
				digits++
			}
			if math.Round(a.Sum) == float64(first.Sum(i)) {
				sums++
			}
		}
		m := rec.epochs[0].Test
		if float64(digits)/1000 != m.DigitAccuracy || float64(sums)/1000 != m.SumAccuracy {
			t.Errorf("%s: predictions give digit accuracy %v and sum accuracy %v; the run's evaluation %v and %v",
				head, float64(digits)/1000, float64(sums)/1000, m.DigitAccuracy, m.SumAccuracy)
		}
	}
}
