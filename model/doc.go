// Package model is the two-headed MNIST model and its training loop, built
// on gorgonia.
//
// The Trunk is the classic MNIST CNN (conv 1→10 5×5, max-pool 2, ReLU,
// conv 10→20 5×5, max-pool 2, ReLU, FC 320→50 + ReLU, optional dropout,
// FC 50→10, log-softmax; the widths are settings) and gives the digit
// log-probabilities. The SumHead reads those 10 log-probabilities (or the
// probabilities) and the one-hot addend (20 inputs), has an optional
// hidden ReLU layer, and predicts the sum either as one regression output
// (MSE, or the notebook's broadcasting MSE) or as 19 classes (NLL). The
// total loss is digit_weight × the digit NLL + sum_weight × the sum loss;
// weight decay is L2 for SGD and decoupled (AdamW) for Adam.
//
// Everything a run depends on is passed in: the settings (sweep.Settings),
// the dtype, the seed and the number of threads, through Config; the only
// package-level variables say which kernels the CPU runs. Weights start as
// PyTorch initialises them (uniform ±1/√fan-in) from the seed, each epoch
// is shuffled from the seed and the epoch number, and the training addends
// come from the seed (TrainSplit) while the test addends come from one
// fixed seed (TestSplit); dropout masks and the shuffled pairing of the
// notebook's loaders come from the seed and the epoch number. The same
// settings therefore give bit-identical results on the same machine and
// build, with any number of threads, and a run resumed from a checkpoint
// (checkpoint.go) ends as if it had never stopped.
//
// Training runs on a tape machine over one graph; evaluation runs on a
// second graph with no gradient nodes and its own machine, into which the
// trained weights are copied, so evaluating never touches training state.
// The convolutions, pooling, fully connected layers and Adam are this
// package's own gorgonia ops (ops_conv.go, ops_pool.go, ops_linear.go,
// solver.go), about ten times as fast as gorgonia's stock ones and tested
// against them. The ops share each step's work among Config.Threads
// workers (workers.go) by output element, every element computed as with
// one thread, so the thread count never changes a result. The matrix
// products use AVX-512F or AVX2+FMA kernels on amd64, chosen at run time
// ($SWEEP_KERNELS=avx2 or go caps them), gonum elsewhere or with -tags
// purego, and OpenBLAS with -tags openblas.
//
// Train reports progress through a Recorder and stops with a
// *DivergedError when the loss stops being finite.
package model
