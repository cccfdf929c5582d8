//! The roles a token can have.

crate::text_enum! {
    /// What a token may do (see the role table in README.md).
    pub enum Role {
        /// The committee office: everything.
        Admin = "admin",
        /// Staff of one unit: that unit's events, trainings, tallies, media reports, committee members.
        Editor = "editor",
        /// A department's script: that unit's tallies, training outcome counts and media reports.
        Reporter = "reporter",
        /// Reads everything, writes nothing (e.g. the TV station).
        Viewer = "viewer",
    }
}
