# frozen_string_literal: true

require_relative "lib/bearer/version"

Gem::Specification.new do |spec|
  spec.name = "bearer"
  spec.version = Bearer::VERSION
  spec.summary = "OAuth 2.0 access tokens behind one cached call (binding of the bearer C library)"
  spec.description = "Takes the DataCosmos/Auth0 or Cobuilder credentials JSON and returns a cached " \
                     "access token, or raises one RFC 9457 problem that never contains the secret."
  spec.authors = ["bearer contributors"]
  spec.license = "MIT OR Apache-2.0"
  spec.required_ruby_version = ">= 3.0"
  # lib/bearer/native/libbearer.so is the packaged copy of the library; test.sh
  # (or a release script) places it there before `gem build`.
  spec.files = Dir["lib/**/*.rb"] + Dir["lib/bearer/native/libbearer.so"] + ["README.md"]
  spec.require_paths = ["lib"]
  spec.add_dependency "ffi", "~> 1.15"
  # Optional, not a dependency: `require "bearer/faraday"` needs the faraday
  # gem the application already uses (Debian ruby-faraday); nothing else
  # loads it. Bearer::NetHTTP needs only the standard library.
  spec.requirements << "optional: faraday >= 1.0, for require \"bearer/faraday\" (Debian: ruby-faraday)"
  spec.metadata["optional_dependencies"] = "faraday >= 1.0 (require \"bearer/faraday\")"
  spec.add_development_dependency "minitest", "~> 5.0"
  spec.add_development_dependency "faraday", ">= 1.0"
end
