//! `tocsin user hash-password|add|list|remove`: web console sign-ins. `hash-password` prints
//! the argon2 hash for a config user's `console.password_hash`; the others manage accounts
//! on a running server through `/api/v1/logins` (admin token).

use crate::client::{Client, ClientArgs};
use clap::{Args, Subcommand};
use serde_json::json;
use std::io::Read;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Read a password from standard input and print its argon2 hash for the config.
    HashPassword,
    /// Make (or with --replace, change) a console account; the password is read from
    /// standard input, so it stays out of the shell history.
    Add(AddArgs),
    /// List console accounts.
    List(ListArgs),
    /// Remove a console account and sign it out everywhere.
    Remove(RemoveArgs),
}

#[derive(Args)]
pub struct AddArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The name to sign in with.
    id: String,
    /// admin, responder or viewer.
    #[arg(long, default_value = "responder")]
    role: String,
    /// The name shown in the console.
    #[arg(long)]
    name: Option<String>,
    /// Change the password, name and role of an account that exists.
    #[arg(long)]
    replace: bool,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    client: ClientArgs,
}

#[derive(Args)]
pub struct RemoveArgs {
    #[command(flatten)]
    client: ClientArgs,
    id: String,
}

/// The password on standard input: its first line, without the line end.
fn read_password() -> Result<String, String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| format!("reading the password from standard input: {e}"))?;
    let line = text.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        return Err("give the password on standard input (echo ... | tocsin user ...)".into());
    }
    Ok(line)
}

pub fn run(cmd: UserCommand) -> ExitCode {
    let result = match cmd {
        UserCommand::HashPassword => read_password().and_then(|p| {
            if let Some(why) = tocsin_server::console::password::weakness(&p) {
                return Err(why);
            }
            println!("{}", tocsin_server::console::password::hash(&p));
            Ok(())
        }),
        UserCommand::Add(a) => read_password().and_then(|password| {
            let mut body =
                json!({"id": a.id, "role": a.role, "password": password, "replace": a.replace});
            if let Some(n) = a.name {
                body["name"] = json!(n);
            }
            Client::new(&a.client).post("/api/v1/logins", &body)?;
            println!(
                "account {} saved; sign in at {}/ui/login",
                a.id,
                a.client.url.trim_end_matches('/')
            );
            Ok(())
        }),
        UserCommand::List(a) => Client::new(&a.client).get("/api/v1/logins", &[]).map(|v| {
            println!("{:<24} {:<10} {:<8} NAME", "ID", "ROLE", "FROM");
            for (list, from) in [("config", "config"), ("items", "api")] {
                for u in v[list].as_array().into_iter().flatten() {
                    println!(
                        "{:<24} {:<10} {:<8} {}",
                        u["id"].as_str().unwrap_or(""),
                        u["role"].as_str().unwrap_or(""),
                        from,
                        u["name"].as_str().unwrap_or("")
                    );
                }
            }
        }),
        UserCommand::Remove(a) => Client::new(&a.client)
            .delete(&format!("/api/v1/logins/{}", a.id), &[])
            .map(|_| println!("account {} removed", a.id)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tocsin user: {e}");
            ExitCode::FAILURE
        }
    }
}
