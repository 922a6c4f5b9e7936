#!/usr/bin/env bash
# Installs the pinned Bicep CLI into .tools/bicep/ (git-ignored) from NuGet, with the .NET SDK's own restore: the
# package Azure.Bicep.CommandLine.linux-x64 carries the self-contained `bicep` binary under tools/. Nothing else is
# downloaded. Idempotent: a second run finds the pinned version in place and only prints it.
# Usage: bash .ci/install-bicep.sh            (then: npm run check:infra)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

BICEP_VERSION="0.49.2"
PACKAGE_ID="Azure.Bicep.CommandLine.linux-x64"
# SHA-512 of the .nupkg as NuGet recorded it when the pin was chosen; a different package under the same version is
# refused.
PACKAGE_SHA512="kBnX0iG9wd/PWdCTwFfUvm6Jemn+5L7sY7b7HQi5k+LLwdFmrbw4y5RTLFxewCFMdBqUThiOILMa7sgzklPEAQ=="

TOOLS_DIR=".tools/bicep"
PACKAGES_DIR="$TOOLS_DIR/packages"
PACKAGE_DIR="$PACKAGES_DIR/$(echo "$PACKAGE_ID" | tr '[:upper:]' '[:lower:]')/$BICEP_VERSION"
BINARY="$PACKAGE_DIR/tools/bicep"
LINK="$TOOLS_DIR/bicep"

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "install-bicep.sh installs the linux-x64 Bicep CLI; on $(uname -s)-$(uname -m) use 'az bicep install' and put bicep on PATH." >&2
  exit 1
fi

if [ ! -x "$BINARY" ]; then
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "install-bicep.sh needs the .NET SDK (dotnet) to restore $PACKAGE_ID from NuGet; or use 'az bicep install'." >&2
    exit 1
  fi
  echo "Installing Bicep CLI $BICEP_VERSION from NuGet ($PACKAGE_ID) into $TOOLS_DIR"
  mkdir -p "$TOOLS_DIR/restore"
  # A restore-only project: PackageDownload fetches exactly this version (brackets = exact) and builds nothing.
  cat >"$TOOLS_DIR/restore/bicep-cli.csproj" <<CSPROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net$(dotnet --version | cut -d. -f1-2)</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="$PACKAGE_ID" Version="[$BICEP_VERSION]" />
  </ItemGroup>
</Project>
CSPROJ
  dotnet restore "$TOOLS_DIR/restore/bicep-cli.csproj" --packages "$PACKAGES_DIR" --nologo --verbosity quiet
  chmod +x "$BINARY"
fi

recorded_sha512="$(cat "$PACKAGE_DIR/$(echo "$PACKAGE_ID" | tr '[:upper:]' '[:lower:]').$BICEP_VERSION.nupkg.sha512")"
if [ "$recorded_sha512" != "$PACKAGE_SHA512" ]; then
  echo "$PACKAGE_ID $BICEP_VERSION does not match the pinned SHA-512; refusing it (delete $TOOLS_DIR to retry)." >&2
  exit 1
fi

ln -sfn "packages/$(echo "$PACKAGE_ID" | tr '[:upper:]' '[:lower:]')/$BICEP_VERSION/tools/bicep" "$LINK"
"$LINK" --version
