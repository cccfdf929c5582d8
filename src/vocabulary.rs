//! Every closed list of values the API speaks (API.md's enums), in one place: each value is
//! sent as its snake_case name and stored as `text` under a CHECK constraint (see
//! [`text_enum!`](crate::text_enum)). The resources re-export the ones they use.

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

crate::text_enum! {
    /// What a change is about: the change feed's and the audit log's `type`.
    pub enum Entity {
        Campaign = "campaign",
        Unit = "unit",
        Partner = "partner",
        CommitteeBody = "committee_body",
        CommitteeMember = "committee_member",
        Event = "event",
        Training = "training",
        Tally = "tally",
        MediaReport = "media_report",
        Webhook = "webhook",
        Account = "account",
        Token = "token",
    }
}

crate::text_enum! {
    pub enum CampaignStatus {
        Planning = "planning",
        Active = "active",
        Closed = "closed",
    }
}

crate::text_enum! {
    pub enum UnitKind {
        GovernmentDepartment = "government_department",
        MassOrganization = "mass_organization",
        Media = "media",
        Association = "association",
        School = "school",
        CommunityEducation = "community_education",
        TrainingInstitution = "training_institution",
        StreetOffice = "street_office",
        Enterprise = "enterprise",
        Other = "other",
    }
}

crate::text_enum! {
    pub enum PartnerRole {
        /// 主办单位
        CoHost = "co_host",
        /// 承办单位
        Undertaker = "undertaker",
        /// 成员单位
        Member = "member",
    }
}

crate::text_enum! {
    pub enum BodyKind {
        /// 领导小组
        LeadingGroup = "leading_group",
        /// 办公室
        Office = "office",
        /// 联络小组
        LiaisonGroup = "liaison_group",
        /// A co-host's own working group
        UnitWorkingGroup = "unit_working_group",
    }
}

crate::text_enum! {
    pub enum CommitteeRole {
        /// 组长
        Chair = "chair",
        /// 副组长
        ViceChair = "vice_chair",
        /// 成员
        Member = "member",
        /// 主任
        Director = "director",
        /// 联络员
        Liaison = "liaison",
    }
}

crate::text_enum! {
    pub enum EventKind {
        OpeningCeremony = "opening_ceremony",
        CommunityActivity = "community_activity",
        Lecture = "lecture",
        Training = "training",
        Exhibition = "exhibition",
        Competition = "competition",
        Performance = "performance",
        ReadingPromotion = "reading_promotion",
        OpenVenue = "open_venue",
        Publicity = "publicity",
        Meeting = "meeting",
        Other = "other",
    }
}

crate::text_enum! {
    /// Drafts are seen by token holders only and never counted.
    pub enum Status {
        Draft = "draft",
        Published = "published",
        Cancelled = "cancelled",
        Completed = "completed",
    }
}

crate::text_enum! {
    /// `internal` items are seen by token holders only (but counted in the summary).
    pub enum Visibility {
        Public = "public",
        Internal = "internal",
    }
}

crate::text_enum! {
    pub enum TrainingSubject {
        /// 电脑
        Computer = "computer",
        /// 英语
        English = "english",
        /// 家政
        Housekeeping = "housekeeping",
        /// 礼仪
        Etiquette = "etiquette",
        /// 人力资源开发
        HrDevelopment = "hr_development",
        /// 学习发展与自我提升
        SelfImprovement = "self_improvement",
        /// 进城务工人员教育与就业再就业
        Employment = "employment",
        Other = "other",
    }
}

crate::text_enum! {
    /// Who was counted (also the values of a training's `target_groups`).
    pub enum Category {
        /// 在职人员
        Employed = "employed",
        /// 在校学生
        Student = "student",
        /// 外来务工人员
        MigrantWorker = "migrant_worker",
        /// 家庭妇女
        Homemaker = "homemaker",
        /// 离退休人员
        Retiree = "retiree",
        /// 返乡人员
        Returnee = "returnee",
        /// 失业人员
        Unemployed = "unemployed",
        /// 退伍军人
        Veteran = "veteran",
        /// 残疾人
        Disabled = "disabled",
        /// 老年人
        Senior = "senior",
        /// 儿童
        Child = "child",
        /// 一般市民
        General = "general",
    }
}

crate::text_enum! {
    /// `headcount`: distinct people (人数); `person_times`: attendances (人次).
    pub enum Measure {
        Headcount = "headcount",
        PersonTimes = "person_times",
    }
}

crate::text_enum! {
    pub enum Source {
        Manual = "manual",
        Script = "script",
        Import = "import",
    }
}

crate::text_enum! {
    pub enum Medium {
        Tv = "tv",
        Radio = "radio",
        Newspaper = "newspaper",
        Online = "online",
        Social = "social",
        PrintMaterial = "print_material",
        Other = "other",
    }
}

crate::text_enum! {
    pub enum TokenKind {
        /// Minted by an admin for a script or a partner system.
        Api = "api",
        /// Issued by `POST /auth/token` for a logged-in account.
        Session = "session",
    }
}
