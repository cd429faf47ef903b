// Run-time binding to cuDNN 9 (see cudnn_api.h).
#include "tools/microbench/cudnn_api.h"

#include <dlfcn.h>

#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace gpufleet::microbench {
namespace {

// cudnnGetLastErrorString keeps a per-thread message of the latest failure; long graph refusals run to a
// few hundred characters.
constexpr size_t kLastErrorChars = 1024;

}  // namespace

absl::StatusOr<std::unique_ptr<Cudnn>> Cudnn::Load(const std::string& library) {
  void* dl = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (dl == nullptr) {
    const char* err = dlerror();
    return absl::UnavailableError(
        absl::StrCat("cuDNN not available: cannot load ", library, " (", err ? err : "dlopen failed", ")"));
  }
  auto api = std::make_unique<Api>();
  std::string missing;
  auto bind = [&](auto& fn, const char* symbol, bool required) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(dl, symbol));
    if (fn == nullptr && required) absl::StrAppend(&missing, missing.empty() ? "" : ", ", symbol);
  };
  bind(api->get_version, "cudnnGetVersion", true);
  bind(api->get_error_string, "cudnnGetErrorString", true);
  bind(api->get_last_error_string, "cudnnGetLastErrorString", false);
  bind(api->create, "cudnnCreate", true);
  bind(api->destroy, "cudnnDestroy", true);
  bind(api->set_stream, "cudnnSetStream", true);
  bind(api->backend_create_descriptor, "cudnnBackendCreateDescriptor", true);
  bind(api->backend_destroy_descriptor, "cudnnBackendDestroyDescriptor", true);
  bind(api->backend_set_attribute, "cudnnBackendSetAttribute", true);
  bind(api->backend_get_attribute, "cudnnBackendGetAttribute", true);
  bind(api->backend_finalize, "cudnnBackendFinalize", true);
  bind(api->backend_execute, "cudnnBackendExecute", true);
  if (!missing.empty()) {
    dlclose(dl);
    return absl::UnavailableError(absl::StrCat("cuDNN not available: ", library, " lacks ", missing));
  }
  const size_t version = api->get_version();
  // The enum values compiled in are cuDNN 9's; another major version would misread them.
  if (version / 10000 != 9) {
    dlclose(dl);
    return absl::UnavailableError(
        absl::StrCat("cuDNN not available: ", library, " reports version ", version, ", this build needs cuDNN 9"));
  }
  return std::unique_ptr<Cudnn>(new Cudnn(dl, std::move(api), version));
}

Cudnn::Cudnn(void* handle, std::unique_ptr<Api> api, size_t version)
    : dl_(handle), api_(std::move(api)), version_(version) {}

Cudnn::~Cudnn() {
  // The handles and descriptors made from this binding must be gone by now (their owners hold a pointer to
  // it); unloading under them would leave dangling code pointers.
  if (dl_) dlclose(dl_);
}

std::string Cudnn::VersionString() const {
  return absl::StrCat(version_ / 10000, ".", (version_ / 100) % 100, ".", version_ % 100);
}

absl::Status Cudnn::Check(cudnnStatus_t status, const std::string& what) const {
  if (status == CUDNN_STATUS_SUCCESS) return absl::OkStatus();
  const char* name = api_->get_error_string ? api_->get_error_string(status) : "error";
  std::string msg = absl::StrCat(what, ": ", name ? name : "error", " (", static_cast<int>(status), ")");
  if (api_->get_last_error_string != nullptr) {
    char detail[kLastErrorChars] = {};
    api_->get_last_error_string(detail, sizeof(detail));
    if (detail[0] != '\0') absl::StrAppend(&msg, ": ", detail);
  }
  const int code = static_cast<int>(status);
  if (code == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED ||
      code == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED) {
    return absl::ResourceExhaustedError(msg);
  }
  if (code >= 3000 && code < 4000) return absl::UnimplementedError(msg);    // CUDNN_STATUS_NOT_SUPPORTED_*
  if (code >= 2000 && code < 3000) return absl::InvalidArgumentError(msg);  // CUDNN_STATUS_BAD_PARAM_*
  return absl::InternalError(msg);
}

// --- CudnnHandle ---

absl::StatusOr<CudnnHandle> CudnnHandle::Create(const Cudnn& dnn) {
  CudnnHandle h;
  h.dnn_ = &dnn;
  if (absl::Status s = dnn.Check(dnn.api().create(&h.handle_), "cudnnCreate"); !s.ok()) {
    h.handle_ = nullptr;
    return s;
  }
  return h;
}

CudnnHandle::~CudnnHandle() { Reset(); }

CudnnHandle::CudnnHandle(CudnnHandle&& other) noexcept
    : dnn_(std::exchange(other.dnn_, nullptr)), handle_(std::exchange(other.handle_, nullptr)) {}

CudnnHandle& CudnnHandle::operator=(CudnnHandle&& other) noexcept {
  if (this != &other) {
    Reset();
    dnn_ = std::exchange(other.dnn_, nullptr);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

void CudnnHandle::Reset() {
  if (handle_ != nullptr && dnn_ != nullptr) dnn_->api().destroy(handle_);
  handle_ = nullptr;
}

absl::Status CudnnHandle::SetStream(cudaStream_t stream) const {
  if (handle_ == nullptr) return absl::FailedPreconditionError("cudnnSetStream on an empty cuDNN handle");
  return dnn_->Check(dnn_->api().set_stream(handle_, stream), "cudnnSetStream");
}

// --- BackendDescriptor ---

absl::StatusOr<BackendDescriptor> BackendDescriptor::Create(const Cudnn& dnn, cudnnBackendDescriptorType_t type) {
  BackendDescriptor d;
  d.dnn_ = &dnn;
  d.type_ = static_cast<int>(type);
  if (absl::Status s = dnn.Check(dnn.api().backend_create_descriptor(type, &d.desc_),
                                 absl::StrCat("cudnnBackendCreateDescriptor(type ", d.type_, ")"));
      !s.ok()) {
    d.desc_ = nullptr;
    return s;
  }
  return d;
}

BackendDescriptor::~BackendDescriptor() {
  if (desc_ != nullptr && dnn_ != nullptr) dnn_->api().backend_destroy_descriptor(desc_);
}

BackendDescriptor::BackendDescriptor(BackendDescriptor&& other) noexcept
    : dnn_(std::exchange(other.dnn_, nullptr)),
      desc_(std::exchange(other.desc_, nullptr)),
      type_(std::exchange(other.type_, -1)) {}

BackendDescriptor& BackendDescriptor::operator=(BackendDescriptor&& other) noexcept {
  if (this != &other) {
    if (desc_ != nullptr && dnn_ != nullptr) dnn_->api().backend_destroy_descriptor(desc_);
    dnn_ = std::exchange(other.dnn_, nullptr);
    desc_ = std::exchange(other.desc_, nullptr);
    type_ = std::exchange(other.type_, -1);
  }
  return *this;
}

absl::Status BackendDescriptor::Set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, int64_t count,
                                    const void* values) {
  if (desc_ == nullptr) return absl::FailedPreconditionError("cudnnBackendSetAttribute on an empty descriptor");
  return dnn_->Check(dnn_->api().backend_set_attribute(desc_, name, type, count, values),
                     absl::StrCat("cudnnBackendSetAttribute(descriptor type ", type_, ", attribute ",
                                  static_cast<int>(name), ")"));
}

absl::Status BackendDescriptor::SetInt64(cudnnBackendAttributeName_t name, int64_t value) {
  return Set(name, CUDNN_TYPE_INT64, 1, &value);
}

absl::Status BackendDescriptor::SetInt64s(cudnnBackendAttributeName_t name, const std::vector<int64_t>& values) {
  return Set(name, CUDNN_TYPE_INT64, static_cast<int64_t>(values.size()), values.data());
}

absl::Status BackendDescriptor::SetBool(cudnnBackendAttributeName_t name, bool value) {
  return Set(name, CUDNN_TYPE_BOOLEAN, 1, &value);
}

absl::Status BackendDescriptor::SetDataType(cudnnBackendAttributeName_t name, cudnnDataType_t value) {
  return Set(name, CUDNN_TYPE_DATA_TYPE, 1, &value);
}

absl::Status BackendDescriptor::SetDescriptor(cudnnBackendAttributeName_t name, const BackendDescriptor& value) {
  if (!value.valid()) {
    return absl::FailedPreconditionError(
        absl::StrCat("attribute ", static_cast<int>(name), " set from an empty descriptor"));
  }
  cudnnBackendDescriptor_t d = value.get();
  return Set(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &d);
}

absl::Status BackendDescriptor::SetDescriptors(cudnnBackendAttributeName_t name,
                                               const std::vector<cudnnBackendDescriptor_t>& values) {
  return Set(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, static_cast<int64_t>(values.size()), values.data());
}

absl::Status BackendDescriptor::Finalize() {
  if (desc_ == nullptr) return absl::FailedPreconditionError("cudnnBackendFinalize on an empty descriptor");
  return dnn_->Check(dnn_->api().backend_finalize(desc_),
                     absl::StrCat("cudnnBackendFinalize(descriptor type ", type_, ")"));
}

absl::StatusOr<int64_t> BackendDescriptor::GetInt64(cudnnBackendAttributeName_t name) const {
  if (desc_ == nullptr) return absl::FailedPreconditionError("cudnnBackendGetAttribute on an empty descriptor");
  int64_t value = 0, count = 0;
  if (absl::Status s = dnn_->Check(dnn_->api().backend_get_attribute(desc_, name, CUDNN_TYPE_INT64, 1, &count, &value),
                                   absl::StrCat("cudnnBackendGetAttribute(descriptor type ", type_, ", attribute ",
                                                static_cast<int>(name), ")"));
      !s.ok()) {
    return s;
  }
  if (count < 1) {
    return absl::InternalError(
        absl::StrCat("cudnnBackendGetAttribute(attribute ", static_cast<int>(name), ") returned no value"));
  }
  return value;
}

}  // namespace gpufleet::microbench
