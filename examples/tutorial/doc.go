// Command tutorial is ffbatch's Go rendition of Microsoft's tutorial "Run a
// parallel workload with Azure Batch using the Python API"
// (Azure-Samples/batch-python-ffmpeg-tutorial): upload MP4 files to an
// `input` container, create a pool whose start task makes sure ffmpeg is
// installed, create a job, add one task per file that converts it to MP3 and
// uploads the result to an `output` container, wait for completion and
// report per-file results and the elapsed time.
//
// It is an example program of the Batch client in internal/batch. By default
// it runs against the local stack, which it starts itself: Azurite for blobs
// and the Batch emulator (emulators/batchemu) in-process on loopback. With
// -batch-url/-batch-account/-batch-key and -storage-connection-string it runs
// against a real Batch account and storage account instead.
//
// Differences from the Python sample, on purpose:
//   - ffmpeg never sees a blob name: each task downloads its input to the
//     fixed local name input.mp4 and writes output.mp3, and the command line
//     runs ffmpeg directly, without a shell (`-nostdin -y`, audio only);
//   - output names keep inner dots ("a.b.mp4" → "a.b.mp3");
//   - stderr.txt is uploaded next to the outputs when a task fails;
//   - the pool uses Ubuntu 24.04 (18.04 is retired) and the start task only
//     installs ffmpeg when it is missing;
//   - job and pool are deleted at the end unless -keep is given (the sample
//     asks interactively); the output container is kept, as in the sample.
//
// Usage:
//
//	go run ./examples/tutorial [-files 5] [-duration 3s] [-state .local/tutorial]
package main
