// The one way into the config parsers: a file (or a string, for tests and the fuzzer) ->
// a resolved, validated config::Config. Detects keepalived.conf or ldirectord.cf from the
// content unless told. Never throws: every problem is a Diag with its file and line, and
// Config::ok() says whether any of them is an error.
//
// Trade-off: loadString never opens a file (an `include` there is an error), so arbitrary
// input — the fuzzer's — cannot reach the file system; include handling is tested through
// load() on temporary directories instead.
#pragma once

#include <string>
#include <string_view>

#include "config/model.h"

namespace sluice::config {

Config load(const std::string& path, Format format = Format::kAuto);
Config loadString(std::string_view text, const std::string& name, Format format = Format::kAuto);

// "FILE:LINE: message", "FILE:LINE: warning: message" ("FILE: ..." when the line is unknown).
std::string formatDiag(const Diag& d);

// kKeepalived or kLdirectord, from the first line that tells them apart.
Format detectFormat(std::string_view text);

}  // namespace sluice::config
