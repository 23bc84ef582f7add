// yosan's exception hierarchy.
//
// Every error yosan throws is a yosan::Error: a message meant for staff (Japanese where a person reads it)
// plus a context saying where it happened (a file and line for input errors, a parameter name for usage
// errors). main() and the HTTP handler are the only places that catch them; they map the subclass to an
// exit status or an HTTP status. Errors from MeCab, ICU and Xapian are wrapped at the boundary where they
// occur so that callers see one hierarchy.
#pragma once

#include <stdexcept>
#include <string>

namespace yosan {

class Error : public std::runtime_error {
public:
    Error(std::string message, std::string context = {})
        : std::runtime_error(message), message_(std::move(message)), context_(std::move(context)) {}
    const std::string& message() const { return message_; }
    // Where it happened: "file:line", a parameter name, or empty.
    const std::string& context() const { return context_; }
    // "context: message", or just the message when there is no context.
    std::string describe() const { return context_.empty() ? message_ : context_ + ": " + message_; }
    // The exit status of a program that stops on this error (see core/cli.h).
    virtual int exit_status() const { return 1; }

private:
    std::string message_;
    std::string context_;
};

// The caller asked for something malformed: a bad flag, an unknown sort order, an unparseable amount.
// CLI exit status 2, HTTP 400.
class UsageError : public Error {
public:
    using Error::Error;
    int exit_status() const override { return 2; }
};

// A configuration file or dictionary that cannot be read or is inconsistent: a mistake in what the program
// was told to do, like a usage error, so the CLI exit status is 2 as well.
class ConfigError : public Error {
public:
    using Error::Error;
    int exit_status() const override { return 2; }
};

// A source file (or a part of one) that cannot be read: not UTF-8, binary, empty, truncated.
// The context is "file:line".
class InputError : public Error {
    using Error::Error;
};

// The index is missing, locked or damaged.
class IndexError : public Error {
    using Error::Error;
};

// MeCab or ICU failed.
class AnalysisError : public Error {
    using Error::Error;
};

}  // namespace yosan
