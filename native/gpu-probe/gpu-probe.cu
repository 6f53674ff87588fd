// vmbench GPU probe: what the CUDA runtime of this host (or guest) sees, as one
// JSON object on stdout. Built with nvcc by scripts/build-gpu-probe.sh (the CUDA
// runtime is linked statically, so only the NVIDIA driver's libcuda.so.1 is
// needed at run time); parsed by src/platforms/host/gpu-probe.ts.
//
// Per device: name, UUID (as nvidia-smi prints it), PCI address, memory, compute
// capability, and three timings on CLOCK_MONOTONIC:
//   contextCreateMs  cudaSetDevice + cudaFree(0): primary context creation
//   firstKernelMs    an empty kernel launched and synchronised (module load,
//                    JIT from PTX when the binary has no code for this GPU)
// and, once, driverInitMs (the first runtime call: cuInit, device enumeration).
//
// Exit codes (distinct, so callers can tell them apart without the JSON):
//   0  at least one device, every context created
//   3  no CUDA device (cudaErrorNoDevice): a driver answered, no GPU
//   4  no usable NVIDIA driver (libcuda.so.1 missing, or older than this runtime)
//   5  another CUDA error (a context could not be created, device busy, …)
//   2  bad usage
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const int EXIT_NO_DEVICE = 3;
static const int EXIT_NO_DRIVER = 4;
static const int EXIT_CUDA_ERROR = 5;

__global__ void empty_kernel() {}

static double now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// A JSON string literal (quotes included) of s.
static void json_string(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  putchar('"');
}

static void print_error(const char *api, cudaError_t e) {
  printf("\"error\":{\"api\":");
  json_string(api);
  printf(",\"code\":%d,\"name\":", (int)e);
  json_string(cudaGetErrorName(e));
  printf(",\"message\":");
  json_string(cudaGetErrorString(e));
  printf("}");
}

static int exit_code_for(cudaError_t e) {
  switch (e) {
    case cudaErrorNoDevice:
      return EXIT_NO_DEVICE;
    case cudaErrorInsufficientDriver:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorCompatNotSupportedOnDevice:
      return EXIT_NO_DRIVER;
    default:
      return EXIT_CUDA_ERROR;
  }
}

static const char *status_for(int code) {
  return code == 0 ? "ok" : code == EXIT_NO_DEVICE ? "no-device" : code == EXIT_NO_DRIVER ? "no-driver" : "cuda-error";
}

int main(int argc, char **argv) {
  if (argc > 1) {
    fprintf(stderr, "usage: %s (no arguments; prints one JSON object)\n", argv[0]);
    return 2;
  }
  int runtimeVersion = 0, driverVersion = 0;
  cudaRuntimeGetVersion(&runtimeVersion);
  // 0 when no driver could be loaded at all; else the CUDA version the driver supports.
  cudaDriverGetVersion(&driverVersion);

  double t0 = now_ms();
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  double driverInitMs = now_ms() - t0;

  printf("{\"probe\":\"vmbench-gpu-probe\",\"schema\":1,\"cudaRuntimeVersion\":%d,\"cudaDriverVersion\":%d,", runtimeVersion, driverVersion);
  int code = 0;
  if (e != cudaSuccess) {
    code = exit_code_for(e);
    printf("\"status\":\"%s\",\"exitCode\":%d,\"driverInitMs\":%.3f,", status_for(code), code, driverInitMs);
    print_error("cudaGetDeviceCount", e);
    printf(",\"devices\":[]}\n");
    fprintf(stderr, "vmbench-gpu-probe: %s: %s (%s)\n",
            code == EXIT_NO_DEVICE ? "no CUDA device" : code == EXIT_NO_DRIVER ? (driverVersion == 0 ? "no NVIDIA driver (libcuda.so.1 could not be loaded)" : "the NVIDIA driver is older than this probe's CUDA runtime") : "CUDA error",
            cudaGetErrorString(e), cudaGetErrorName(e));
    return code;
  }
  if (count == 0) {
    code = EXIT_NO_DEVICE;
    printf("\"status\":\"no-device\",\"exitCode\":%d,\"driverInitMs\":%.3f,\"devices\":[]}\n", code, driverInitMs);
    fprintf(stderr, "vmbench-gpu-probe: no CUDA device\n");
    return code;
  }

  // The overall status comes after the devices: it depends on every device's context.
  printf("\"driverInitMs\":%.3f,\"devices\":[", driverInitMs);
  for (int i = 0; i < count; i++) {
    if (i) putchar(',');
    cudaDeviceProp p;
    memset(&p, 0, sizeof p);
    cudaError_t pe = cudaGetDeviceProperties(&p, i);
    char bus[32] = "";
    cudaDeviceGetPCIBusId(bus, sizeof bus, i);
    printf("{\"index\":%d,\"name\":", i);
    json_string(pe == cudaSuccess ? p.name : "");
    const unsigned char *u = (const unsigned char *)p.uuid.bytes;
    printf(",\"uuid\":\"GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\"",
           u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    printf(",\"pciBusId\":");
    json_string(bus);
    printf(",\"computeCapability\":\"%d.%d\",\"multiProcessors\":%d,\"totalMemoryBytes\":%zu", p.major, p.minor, p.multiProcessorCount, p.totalGlobalMem);

    double c0 = now_ms();
    cudaError_t ce = cudaSetDevice(i);
    if (ce == cudaSuccess) ce = cudaFree(0);
    double contextMs = now_ms() - c0;
    if (ce != cudaSuccess) {
      if (code == 0) code = exit_code_for(ce) == EXIT_NO_DEVICE ? EXIT_CUDA_ERROR : exit_code_for(ce);
      printf(",\"contextCreateMs\":null,");
      print_error("cudaSetDevice/cudaFree(0)", ce);
      printf("}");
      continue;
    }
    size_t freeB = 0, totalB = 0;
    cudaMemGetInfo(&freeB, &totalB);
    double k0 = now_ms();
    empty_kernel<<<1, 1>>>();
    cudaError_t ke = cudaGetLastError();
    if (ke == cudaSuccess) ke = cudaDeviceSynchronize();
    double kernelMs = now_ms() - k0;
    printf(",\"freeMemoryBytes\":%zu,\"contextCreateMs\":%.3f", freeB, contextMs);
    if (ke == cudaSuccess) {
      printf(",\"firstKernelMs\":%.3f}", kernelMs);
    } else {
      if (code == 0) code = EXIT_CUDA_ERROR;
      printf(",\"firstKernelMs\":null,");
      print_error("empty kernel", ke);
      printf("}");
    }
    cudaDeviceReset();
  }
  printf("],\"status\":\"%s\",\"exitCode\":%d}\n", status_for(code), code);
  return code;
}
