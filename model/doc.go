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
// A training step is computed in shards: the batch is cut into
// min(4, batch_size/32) contiguous parts (one for the broadcasting MSE,
// whose loss pairs examples across the batch), each run on its own graph
// and tape machine over the same weight tensors, and the shards'
// gradients are summed in shard order, each weighted by its share of the
// batch (Shards, Trainer). The run's Config.Threads workers (workers.go)
// take whole shards; threads beyond one per shard share a shard's ops by
// output element, every element computed as with one thread. The shard
// count depends on the settings alone, so the thread count never changes
// a result, nor does changing it while a run trains (Config.Share, which
// sweep run uses to give idle workers' cores to the runs still training). Evaluation runs on a separate graph with no gradient nodes and
// its own machine, into which the trained weights are copied, so
// evaluating never touches training state. Tapes run on the calling
// goroutine (tape.go), not on the fresh goroutine and locked thread of
// gorgonia's RunAll. The convolutions, pooling, fully connected layers,
// log-softmax and Adam are this package's own gorgonia ops (ops_conv.go,
// ops_pool.go, ops_linear.go, ops_softmax.go, solver.go), about ten times
// as fast as gorgonia's stock ones and tested against them. The matrix
// products use AVX-512F or AVX2+FMA kernels on amd64, chosen at run time
// ($SWEEP_KERNELS=avx2 or go caps them), gonum elsewhere or with -tags
// purego, and OpenBLAS with -tags openblas.
//
// Train reports progress through a Recorder and stops with a
// *DivergedError when the loss stops being finite.
package model
