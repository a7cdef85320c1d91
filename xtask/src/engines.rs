//! The browser engines the wasm-bindgen-test suites run in: Chromium, Firefox ESR and WebKitGTK
//! (Safari's engine), each through its WebDriver (chromedriver, geckodriver, WebKitWebDriver), all
//! from Debian's packages but geckodriver (crates.io). wasm-bindgen-test-runner picks the driver
//! from an environment variable and reads the browsers' options from one webdriver.json.

use std::path::PathBuf;

use crate::{CHROMEDRIVER, CHROMIUM};

const FIREFOX: &str = "/usr/bin/firefox-esr";
const WEBKIT_DRIVER: &str = "/usr/bin/WebKitWebDriver";
const XVFB_RUN: &str = "/usr/bin/xvfb-run";
/// geckodriver from crates.io (`cargo install`), the version these machines build.
pub const GECKODRIVER_VERSION: &str = "0.37.1";

/// Chromium flags for the browser tests (wasm-bindgen-test-runner adds `headless`,
/// `no-sandbox` and `disable-dev-shm-usage` itself; repeating them is harmless).
const CHROME_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Chromium,
    Firefox,
    WebKit,
}

impl Engine {
    pub const ALL: [Engine; 3] = [Engine::Chromium, Engine::Firefox, Engine::WebKit];

    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium",
            Engine::Firefox => "firefox",
            Engine::WebKit => "webkit",
        }
    }

    pub fn parse(name: &str) -> Option<Engine> {
        Engine::ALL.into_iter().find(|e| e.name() == name)
    }

    /// How wasm-bindgen-test-runner names it in `Running headless tests in <banner>`.
    pub fn banner(self) -> &'static str {
        match self {
            Engine::Chromium => "Chrome",
            Engine::Firefox => "Firefox",
            Engine::WebKit => "Safari",
        }
    }

    /// The Debian packages it needs.
    pub fn packages(self) -> &'static [&'static str] {
        match self {
            Engine::Chromium => &["chromium", "chromium-driver"],
            Engine::Firefox => &["firefox-esr"],
            Engine::WebKit => &["webkit2gtk-driver", "xvfb", "xauth"],
        }
    }

    /// The files those packages must have put in place.
    pub fn installed(self) -> &'static [&'static str] {
        match self {
            Engine::Chromium => &[CHROMIUM, CHROMEDRIVER],
            Engine::Firefox => &[FIREFOX],
            Engine::WebKit => &[WEBKIT_DRIVER, XVFB_RUN],
        }
    }

    /// The variable that tells wasm-bindgen-test-runner which WebDriver to start, and its path
    /// (`cargo_bin`: where `cargo install` puts geckodriver).
    pub fn driver(self, cargo_bin: &std::path::Path) -> (&'static str, PathBuf) {
        match self {
            Engine::Chromium => ("CHROMEDRIVER", PathBuf::from(CHROMEDRIVER)),
            Engine::Firefox => ("GECKODRIVER", cargo_bin.join("geckodriver")),
            Engine::WebKit => ("SAFARIDRIVER", PathBuf::from(WEBKIT_DRIVER)),
        }
    }

    /// WebKitGTK draws even when driven: it runs on a virtual X display.
    pub fn needs_display(self) -> bool {
        self == Engine::WebKit
    }
}

/// The capabilities wasm-bindgen-test-runner hands to each driver (it picks its browser's key).
pub fn webdriver_json() -> String {
    let args: Vec<String> = CHROME_ARGS.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "{{\n  \"goog:chromeOptions\": {{\n    \"args\": [{}],\n    \"binary\": \"{CHROMIUM}\"\n  }},\n  \
         \"moz:firefoxOptions\": {{\n    \"args\": [\"-headless\"],\n    \"binary\": \"{FIREFOX}\"\n  }}\n}}\n",
        args.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webdriver_json_has_each_browsers_options() {
        let json = webdriver_json();
        assert!(json.contains("\"goog:chromeOptions\""));
        assert!(json.contains("\"--headless\""));
        assert!(json.contains("\"moz:firefoxOptions\""));
        assert!(json.contains("\"-headless\""));
    }

    #[test]
    fn engines_by_name() {
        for e in Engine::ALL {
            assert_eq!(Engine::parse(e.name()), Some(e));
        }
        assert_eq!(Engine::parse("safari"), None);
    }
}
