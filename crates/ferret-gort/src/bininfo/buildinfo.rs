//! What the Go toolchain records about a build: its Go version, the main
//! module and the build settings (`go version -m` shows the same).

use super::image::Image;

/// Build facts recorded by the Go linker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// The toolchain version, e.g. `go1.26.8`.
    pub go_version: String,
    /// The main package path, e.g. `example.com/hello` (`path` line).
    pub main_path: String,
    /// The main module path (`mod` line), empty when built outside a module.
    pub main_module: String,
    /// The main module version, `(devel)` for a local build.
    pub main_module_version: String,
    /// Build settings in order, e.g. `("-gcflags", "all=-N -l")`.
    pub settings: Vec<(String, String)>,
    /// The raw module info text, one line per entry, as `go version -m`
    /// prints it without the leading tab.
    pub module_lines: Vec<String>,
}

/// The 14-byte magic at the start of `.go.buildinfo`.
const MAGIC: &[u8] = b"\xff Go buildinf:";
/// Flag bit: version and module info are stored inline as varint-prefixed
/// strings (Go 1.18 and later) instead of behind pointers.
const FLAG_INLINE_STRINGS: u8 = 0x2;
/// Flag bit: pointers are big-endian.
const FLAG_BIG_ENDIAN: u8 = 0x1;

impl BuildInfo {
    /// Reads `.go.buildinfo`, falling back to the `runtime.buildVersion`
    /// string for the version alone. `None` when neither is there, which
    /// means the file was not made by the Go linker.
    pub fn read(image: &Image) -> Option<BuildInfo> {
        if let Some(info) = image
            .loaded_section(".go.buildinfo")
            .and_then(|(_, data)| parse_section(image, data))
        {
            return Some(info);
        }
        let version = runtime_build_version(image)?;
        Some(BuildInfo {
            go_version: version,
            ..BuildInfo::default()
        })
    }
}

/// Parses the section in either of its two layouts.
fn parse_section(image: &Image, data: &[u8]) -> Option<BuildInfo> {
    if data.len() < 32 || &data[..MAGIC.len()] != MAGIC {
        return None;
    }
    let ptr_size = data[14] as usize;
    let flags = data[15];
    let (version, modinfo) = if flags & FLAG_INLINE_STRINGS != 0 {
        let mut rest = &data[32..];
        let version = read_varint_bytes(&mut rest)?;
        let modinfo = read_varint_bytes(&mut rest)?;
        (version.to_vec(), modinfo.to_vec())
    } else {
        let big_endian = flags & FLAG_BIG_ENDIAN != 0;
        let version_ptr = read_uint(data.get(16..16 + ptr_size)?, big_endian);
        let modinfo_ptr = read_uint(data.get(16 + ptr_size..16 + 2 * ptr_size)?, big_endian);
        (
            read_string_header(image, version_ptr, ptr_size, big_endian)?,
            read_string_header(image, modinfo_ptr, ptr_size, big_endian).unwrap_or_default(),
        )
    };
    let mut info = BuildInfo {
        go_version: String::from_utf8_lossy(&version).into_owned(),
        ..BuildInfo::default()
    };
    parse_modinfo(
        &String::from_utf8_lossy(strip_sentinels(&modinfo)),
        &mut info,
    );
    Some(info)
}

/// The module info is wrapped in 16 bytes of binary sentinel on each side;
/// drop them (before any UTF-8 decoding, which would mangle them).
fn strip_sentinels(modinfo: &[u8]) -> &[u8] {
    if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        modinfo
    }
}

/// Fills the module fields from the tab-separated module info lines.
fn parse_modinfo(text: &str, info: &mut BuildInfo) {
    for line in text.lines().filter(|l| !l.is_empty()) {
        info.module_lines.push(line.to_owned());
        let mut fields = line.split('\t');
        match fields.next() {
            Some("path") => info.main_path = fields.next().unwrap_or("").to_owned(),
            Some("mod") => {
                info.main_module = fields.next().unwrap_or("").to_owned();
                info.main_module_version = fields.next().unwrap_or("").to_owned();
            }
            Some("build") => {
                let setting = fields.collect::<Vec<_>>().join("\t");
                let (key, value) = setting.split_once('=').unwrap_or((&setting, ""));
                info.settings.push((key.to_owned(), unquote(value)));
            }
            _ => {}
        }
    }
}

/// Build setting values containing spaces, quotes or `=` are Go-quoted.
fn unquote(value: &str) -> String {
    if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
        let inner = &value[1..value.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        out
    } else {
        value.to_owned()
    }
}

/// Reads an unsigned LEB128 length followed by that many bytes.
fn read_varint_bytes<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let mut len: u64 = 0;
    let mut shift = 0;
    loop {
        let (&byte, tail) = rest.split_first()?;
        *rest = tail;
        len |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    let len = usize::try_from(len).ok()?;
    let bytes = rest.get(..len)?;
    *rest = &rest[len..];
    Some(bytes)
}

/// Reads a Go string header (pointer, length) at `addr` and the bytes it
/// points to.
fn read_string_header(
    image: &Image,
    addr: u64,
    ptr_size: usize,
    big_endian: bool,
) -> Option<Vec<u8>> {
    let header = image.read_at(addr, 2 * ptr_size)?;
    let data = read_uint(&header[..ptr_size], big_endian);
    let len = usize::try_from(read_uint(&header[ptr_size..], big_endian)).ok()?;
    Some(image.read_at(data, len)?.to_vec())
}

/// The `runtime.buildVersion` string, found through the symbol table.
fn runtime_build_version(image: &Image) -> Option<String> {
    let symbol = image
        .symbols()
        .into_iter()
        .find(|s| s.name == "runtime.buildVersion")?;
    let bytes = read_string_header(image, symbol.address, 8, !image.is_little_endian())?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Decodes an unsigned integer of 1 to 8 bytes.
fn read_uint(bytes: &[u8], big_endian: bool) -> u64 {
    let fold = |acc: u64, b: &u8| (acc << 8) | u64::from(*b);
    if big_endian {
        bytes.iter().fold(0, fold)
    } else {
        bytes.iter().rev().fold(0, fold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_strings_and_modinfo_lines() {
        let mut buf = vec![3u8];
        buf.extend_from_slice(b"go1");
        let mut rest = &buf[..];
        assert_eq!(read_varint_bytes(&mut rest), Some(&b"go1"[..]));
        assert!(rest.is_empty());

        let mut info = BuildInfo::default();
        parse_modinfo(
            "path\ta/b\nmod\ta/b\t(devel)\t\nbuild\t-gcflags=\"all=-N -l\"\nbuild\tGOOS=linux\n",
            &mut info,
        );
        assert_eq!(info.main_path, "a/b");
        assert_eq!(info.main_module_version, "(devel)");
        assert_eq!(
            info.settings[0],
            ("-gcflags".to_owned(), "all=-N -l".to_owned())
        );
        assert_eq!(info.settings[1], ("GOOS".to_owned(), "linux".to_owned()));
    }

    #[test]
    fn truncated_varint_is_none() {
        let mut rest: &[u8] = &[0x85];
        assert_eq!(read_varint_bytes(&mut rest), None);
        let mut rest: &[u8] = &[5, b'a'];
        assert_eq!(read_varint_bytes(&mut rest), None);
    }
}
