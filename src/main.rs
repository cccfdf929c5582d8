fn main() -> std::process::ExitCode {
    learnweek::cli::run()
}
