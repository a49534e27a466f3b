/* The C -O2 reference for `npm run bench`'s back-projection + PointCloud2 packing row: the same
 * work as src/geometry/backproject.ts backProjectCloud (float64 factors, float32 stores, NaN and
 * range test, rgb bits and uint32 label per point, 20-byte points) on the same synthetic inputs
 * as the bench builds (see syntheticCloudInputs in bench/pipeline.bench.ts).
 * Usage: backprojectCloud WIDTH HEIGHT DECIMATION RUNS WARMUP; prints one median in ms per line
 * as "median_ms <value>" and a checksum of the last output ("checksum <value>"). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void kernel(const float *depth, const uint8_t *rgb, const uint16_t *labels, int width, int height,
                   int n, double fx, double fy, double cx, double cy, float minRange, float maxRange,
                   double *colFactor, uint8_t *out) {
  int gw = (width + n - 1) / n, gh = (height + n - 1) / n;
  for (int j = 0; j < gw; j++) colFactor[j] = ((double)(j * n) - cx) / fx;
  size_t w = 0;
  for (int i = 0; i < gh; i++) {
    int v = i * n;
    double rowFactor = ((double)v - cy) / fy;
    size_t p = (size_t)v * width;
    for (int j = 0; j < gw; j++, p += n, w += 20) {
      float z = depth[p];
      float xyz[3];
      if (z >= minRange && z <= maxRange && z != INFINITY) {
        xyz[0] = (float)(colFactor[j] * z);
        xyz[1] = (float)(rowFactor * z);
        xyz[2] = z;
      } else {
        xyz[0] = xyz[1] = xyz[2] = NAN;
      }
      uint32_t bits = ((uint32_t)rgb[3 * p] << 16) | ((uint32_t)rgb[3 * p + 1] << 8) | rgb[3 * p + 2];
      uint32_t label = labels[p];
      memcpy(out + w, xyz, 12);
      memcpy(out + w + 12, &bits, 4);
      memcpy(out + w + 16, &label, 4);
    }
  }
}

static double nowMs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 6) { fprintf(stderr, "usage: %s WIDTH HEIGHT DECIMATION RUNS WARMUP\n", argv[0]); return 2; }
  int width = atoi(argv[1]), height = atoi(argv[2]), n = atoi(argv[3]), runs = atoi(argv[4]), warmup = atoi(argv[5]);
  size_t pixels = (size_t)width * height;
  float *depth = malloc(pixels * sizeof *depth);
  uint8_t *rgb = malloc(pixels * 3);
  uint16_t *labels = malloc(pixels * sizeof *labels);
  /* Same formulas as the bench's syntheticCloudInputs. */
  for (size_t i = 0; i < pixels; i++) {
    depth[i] = i % 37 == 0 ? NAN : (float)(0.5 + (double)(i % 997) * 0.01);
    labels[i] = (uint16_t)(i % 7);
  }
  for (size_t i = 0; i < pixels * 3; i++) rgb[i] = (uint8_t)(i * 31);
  int gw = (width + n - 1) / n, gh = (height + n - 1) / n;
  double *colFactor = malloc(gw * sizeof *colFactor);
  uint8_t *out = malloc((size_t)gw * gh * 20);
  double *samples = malloc(runs * sizeof *samples);
  double fx = 525, fy = 525, cx = 319.5, cy = 239.5;
  for (int r = 0; r < warmup; r++) kernel(depth, rgb, labels, width, height, n, fx, fy, cx, cy, 0, INFINITY, colFactor, out);
  for (int r = 0; r < runs; r++) {
    double t0 = nowMs();
    kernel(depth, rgb, labels, width, height, n, fx, fy, cx, cy, 0, INFINITY, colFactor, out);
    /* Keeps the compiler from dropping repeated runs: the output is read between them. */
    __asm__ volatile("" : : "r"(out) : "memory");
    samples[r] = nowMs() - t0;
  }
  qsort(samples, runs, sizeof *samples, cmp);
  double median = runs % 2 ? samples[runs / 2] : (samples[runs / 2 - 1] + samples[runs / 2]) / 2;
  uint32_t sum = 2166136261u; /* FNV-1a, as the bench computes it over the JS kernel's output */
  for (size_t i = 0; i < (size_t)gw * gh * 20; i++) sum = (sum ^ out[i]) * 16777619u;
  printf("median_ms %.6f\nchecksum %u\n", median, sum);
  return 0;
}
