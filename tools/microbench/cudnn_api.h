// cuDNN 9 loaded at run time with dlopen("libcudnn.so.9"), like NVML (nvml.h): the suite links no cuDNN, so it
// builds and runs where cuDNN is missing, and only the cudnn_sdpa points are then skipped. <cudnn_graph.h> is
// included for its types and enums only; every call goes through the resolved entry points. Also RAII for the
// cuDNN handle and for backend descriptors, whose failures come back as absl::Status with cuDNN's own text.
#pragma once

#include <cudnn_graph.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gpufleet::microbench {

class Cudnn {
 public:
  // The resolved entry points (signatures of cudnn_graph.h).
  struct Api {
    size_t (*get_version)() = nullptr;
    const char* (*get_error_string)(cudnnStatus_t) = nullptr;
    void (*get_last_error_string)(char*, size_t) = nullptr;  // optional (cuDNN 9.0+)
    cudnnStatus_t (*create)(cudnnHandle_t*) = nullptr;
    cudnnStatus_t (*destroy)(cudnnHandle_t) = nullptr;
    cudnnStatus_t (*set_stream)(cudnnHandle_t, cudaStream_t) = nullptr;
    cudnnStatus_t (*backend_create_descriptor)(cudnnBackendDescriptorType_t, cudnnBackendDescriptor_t*) = nullptr;
    cudnnStatus_t (*backend_destroy_descriptor)(cudnnBackendDescriptor_t) = nullptr;
    cudnnStatus_t (*backend_set_attribute)(cudnnBackendDescriptor_t, cudnnBackendAttributeName_t,
                                           cudnnBackendAttributeType_t, int64_t, const void*) = nullptr;
    cudnnStatus_t (*backend_get_attribute)(cudnnBackendDescriptor_t, cudnnBackendAttributeName_t,
                                           cudnnBackendAttributeType_t, int64_t, int64_t*, void*) = nullptr;
    cudnnStatus_t (*backend_finalize)(cudnnBackendDescriptor_t) = nullptr;
    cudnnStatus_t (*backend_execute)(cudnnHandle_t, cudnnBackendDescriptor_t, cudnnBackendDescriptor_t) = nullptr;
  };

  // dlopen(`library`) and resolve the entry points. Unavailable, naming the library, when it or a symbol is
  // missing, or when it is not cuDNN 9 (the backend enums of cudnn_graph.h are those of major version 9).
  static absl::StatusOr<std::unique_ptr<Cudnn>> Load(const std::string& library = "libcudnn.so.9");
  ~Cudnn();
  Cudnn(const Cudnn&) = delete;
  Cudnn& operator=(const Cudnn&) = delete;

  const Api& api() const { return *api_; }
  size_t version() const { return version_; }  // cudnnGetVersion(): 91900 for 9.19.0
  std::string VersionString() const;           // "9.19.0"

  // OK for CUDNN_STATUS_SUCCESS. Otherwise the status names `what`, cuDNN's error string and its last error
  // message (which often says which attribute or shape was refused): Unimplemented for the NOT_SUPPORTED
  // family (no engine for this graph or shape), InvalidArgument for BAD_PARAM, ResourceExhausted for
  // allocation failures, Internal otherwise.
  absl::Status Check(cudnnStatus_t status, const std::string& what) const;

 private:
  Cudnn(void* handle, std::unique_ptr<Api> api, size_t version);

  void* dl_ = nullptr;
  std::unique_ptr<Api> api_;
  size_t version_ = 0;
};

// A cuDNN handle (cudnnCreate on the current device), destroyed with the object.
class CudnnHandle {
 public:
  CudnnHandle() = default;
  static absl::StatusOr<CudnnHandle> Create(const Cudnn& dnn);
  ~CudnnHandle();
  CudnnHandle(CudnnHandle&& other) noexcept;
  CudnnHandle& operator=(CudnnHandle&& other) noexcept;
  CudnnHandle(const CudnnHandle&) = delete;
  CudnnHandle& operator=(const CudnnHandle&) = delete;

  cudnnHandle_t get() const { return handle_; }
  absl::Status SetStream(cudaStream_t stream) const;

 private:
  void Reset();
  const Cudnn* dnn_ = nullptr;
  cudnnHandle_t handle_ = nullptr;
};

// One backend descriptor (cudnnBackendCreateDescriptor), destroyed with the object. Setters return the
// status of cudnnBackendSetAttribute with the attribute's number in the message, so a refusal at graph
// construction says what was refused.
class BackendDescriptor {
 public:
  BackendDescriptor() = default;
  static absl::StatusOr<BackendDescriptor> Create(const Cudnn& dnn, cudnnBackendDescriptorType_t type);
  ~BackendDescriptor();
  BackendDescriptor(BackendDescriptor&& other) noexcept;
  BackendDescriptor& operator=(BackendDescriptor&& other) noexcept;
  BackendDescriptor(const BackendDescriptor&) = delete;
  BackendDescriptor& operator=(const BackendDescriptor&) = delete;

  cudnnBackendDescriptor_t get() const { return desc_; }
  bool valid() const { return desc_ != nullptr; }

  absl::Status Set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, int64_t count,
                   const void* values);
  absl::Status SetInt64(cudnnBackendAttributeName_t name, int64_t value);
  absl::Status SetInt64s(cudnnBackendAttributeName_t name, const std::vector<int64_t>& values);
  absl::Status SetBool(cudnnBackendAttributeName_t name, bool value);
  absl::Status SetDataType(cudnnBackendAttributeName_t name, cudnnDataType_t value);
  absl::Status SetDescriptor(cudnnBackendAttributeName_t name, const BackendDescriptor& value);
  absl::Status SetDescriptors(cudnnBackendAttributeName_t name, const std::vector<cudnnBackendDescriptor_t>& values);
  absl::Status Finalize();

  // cudnnBackendGetAttribute of one int64 (a workspace size, an engine index).
  absl::StatusOr<int64_t> GetInt64(cudnnBackendAttributeName_t name) const;

 private:
  const Cudnn* dnn_ = nullptr;
  cudnnBackendDescriptor_t desc_ = nullptr;
  int type_ = -1;  // cudnnBackendDescriptorType_t, for messages
};

}  // namespace gpufleet::microbench
