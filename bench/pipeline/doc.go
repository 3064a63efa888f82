// Package pipeline benchmarks the whole local pipeline as `ffbatch up`
// runs it (internal/localstack: Azurite, the Service Bus and Batch
// emulators and the Functions host with the built handler, as child
// processes), against plain ffmpeg measured in the same run:
//
//   - BenchmarkUploadToMP3Latency: one 10-second MP4 uploaded, time until its
//     MP3 is in the output container, p50 and p95 over 20 runs, against
//     plain ffmpeg converting the same file with the same preset.
//   - BenchmarkTwentyFourThreeMinuteFiles: 24 MP4s with 3 minutes of audio
//     uploaded at once, wall time to the last MP3, against plain ffmpeg over
//     the same local files with the same parallelism.
//
// The benchmarks report metrics and ratios; they never assert timing
// targets. They are not part of `make test` (no Test functions); run them
// with `go test -run '^$' -bench . -benchtime 1x ./bench/pipeline`.
package pipeline
