// Errors as values. Each code maps one-to-one to an HTTP status (api/responses.cc)
// and, later, to a gRPC code. Pure: no I/O.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace muster::core {

enum class Code {
  kOk,
  kInvalidArgument,     // 400
  kUnauthenticated,     // 401
  kPermissionDenied,    // 403
  kNotFound,            // 404
  kAlreadyExists,       // 409
  kFailedPrecondition,  // 409
  kAborted,             // 409 (version conflict)
  kResourceExhausted,   // 429
  kOutOfRange,          // 400 (a count or list outside its capacity)
  kUnavailable,         // 503
  kInternal,            // 500
};

const char* CodeName(Code code);  // "InvalidArgument", ...

// One problem in a request or manifest, with the path of the field it is about
// (e.g. "spec.template.spec.ports[1].name"). `field` is empty when no field is to blame.
struct FieldError {
  std::string field;
  std::string message;
  bool operator==(const FieldError&) const = default;
};

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Invalid(std::vector<FieldError> problems);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // The first offending field, if any.
  const std::string& field() const { return field_; }
  // Every problem found (validation reports them all at once).
  const std::vector<FieldError>& problems() const { return problems_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string field_;
  std::vector<FieldError> problems_;
};

inline Status OkStatus() { return {}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status InvalidArgument(std::string m, std::string field = {}) {
  return {Code::kInvalidArgument, std::move(m), std::move(field)};
}
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}

// A value or the Status that explains why there is none.
template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {}  // NOLINT
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace muster::core
