//! The server's secret for signed action links, kept in the data directory (mode 0600) so
//! links stay valid across restarts, and made on first start; and the writing of such
//! secret files, shared with the admin token.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

pub fn secret(data: &Path) -> Result<Vec<u8>, String> {
    let path = data.join("link-secret");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bytes = hex(text.trim()).ok_or_else(|| {
                format!(
                    "{} is not 64 hex digits; delete it to make a new one (old links stop working)",
                    path.display()
                )
            })?;
            return Ok(bytes);
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("{}: {e}", path.display()))
        }
        Err(_) => {}
    }
    let bytes: [u8; 32] = rand::random();
    let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_secret_file(&path, &text)?;
    Ok(bytes.to_vec())
}

/// Writes a new secret file readable by its owner only (0600), synced; refuses to replace
/// one that exists, so two starts cannot each make their own.
pub fn write_secret_file(path: &Path, text: &str) -> Result<(), String> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    writeln!(f, "{text}")
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..32)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
        .collect()
}
