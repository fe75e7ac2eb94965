//! The API key a first start makes, handed to whoever started the server and to nobody else.
//!
//! On a terminal it is printed, as before. Otherwise stdout is likely a log collector, where a
//! secret would be kept and copied, and with `LOG_FORMAT=json` a bare key would be the one line
//! that is not JSON: the key goes to a file only its owner can read, and the log says where.

use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

/// Where the key went.
#[derive(Debug, PartialEq, Eq)]
pub enum Handed {
    /// Printed on stdout, a terminal.
    Printed,
    /// Written to this file (an absolute path), readable by its owner only.
    Written(PathBuf),
}

/// Prints `secret` when `to_terminal`, otherwise writes it to `path` (see [`write_owner_only`]).
pub fn hand_over(secret: &str, path: &Path, to_terminal: bool) -> io::Result<Handed> {
    if to_terminal {
        println!("First start: API key for the default workspace (shown only now):\n{secret}");
        return Ok(Handed::Printed);
    }
    let path = std::path::absolute(path)?;
    write_owner_only(&path, &format!("{secret}\n"))?;
    Ok(Handed::Written(path))
}

/// Writes `contents` to a new file at `path` that only its owner may read or write (mode 0600
/// on Unix). A file already there is removed first rather than truncated, so that it cannot keep
/// wider permissions (or be a link to somewhere else).
pub fn write_owner_only(path: &Path, contents: &str) -> io::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn off_a_terminal_the_key_goes_to_an_owner_only_file_in_place_of_any_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        }
        let handed = hand_over("sk_new", &path, false).unwrap();
        assert_eq!(handed, Handed::Written(path.clone()));
        assert_eq!(fs::read_to_string(&path).unwrap(), "sk_new\n");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn an_unwritable_place_is_an_error_not_a_lost_key_in_silence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-directory").join("key");
        assert!(hand_over("sk_a", &path, false).is_err());
    }
}
