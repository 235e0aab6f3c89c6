// Manifest files, shared by `muster apply` (over HTTP) and `muster serve --apply`
// (in process).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/controller.h"
#include "core/status.h"

namespace muster::app {

struct ManifestObject {
  std::string kind;  // Fleet | GameServer
  std::string name;
  nlohmann::json doc;
};

// Reads `file` ("-" = standard input): YAML or JSON, one or more documents, each
// with a known apiVersion and kind. Errors name the document and field.
core::StatusOr<std::vector<ManifestObject>> ReadManifests(const std::string& file);

// Applies every manifest of `file` through `apply`, which answers "created" or
// "configured". Prints one line per object (kubectl style) and every error; returns
// the exit code (0, or 1 if any failed).
using ApplyFn = std::function<core::StatusOr<std::string>(const ManifestObject&)>;
int ApplyFile(const std::string& file, const ApplyFn& apply);

// Decodes and applies one manifest directly on `controller`, waiting for the commit.
// REQUIRES: not called on the controller's owner thread.
core::StatusOr<std::string> ApplyInProcess(control::Controller& controller,
                                           const ManifestObject& m);

// One line for an error: "field: message" plus every further problem.
std::string Describe(const core::Status& status);

}  // namespace muster::app
