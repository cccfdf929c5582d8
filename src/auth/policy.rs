//! The one place that decides who may write what. Every write path calls [`authorize`]; the
//! journal (audit log + change feed) only accepts the [`Authorized`] proof it returns, so a
//! write cannot be recorded without having been authorized.

use uuid::Uuid;

use super::principal::Principal;
use crate::error::{AppError, AppResult};
use crate::vocabulary::Role;

/// What is being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Campaign,
    Unit,
    Partner,
    CommitteeBody,
    CommitteeMember,
    Event,
    /// A training's descriptive fields.
    Training,
    /// Only a training's outcome counts (`enrolled`, `completed`, `employed_after`).
    TrainingOutcome,
    Tally,
    MediaReport,
    Token,
    Account,
    Webhook,
}

impl Subject {
    fn noun(self) -> &'static str {
        match self {
            Subject::Campaign => "campaigns",
            Subject::Unit => "units",
            Subject::Partner => "partners",
            Subject::CommitteeBody => "committee bodies",
            Subject::CommitteeMember => "committee members",
            Subject::Event => "events",
            Subject::Training => "trainings",
            Subject::TrainingOutcome => "training outcome counts",
            Subject::Tally => "tallies",
            Subject::MediaReport => "media reports",
            Subject::Token => "tokens",
            Subject::Account => "accounts",
            Subject::Webhook => "webhooks",
        }
    }
}

/// Proof that `actor` was authorized for a write. Only [`authorize`] makes one for a caller;
/// [`Authorized::system`] is the program's own (command-line tasks, login, the webhook worker).
#[derive(Debug, Clone)]
pub struct Authorized {
    actor: Principal,
}

impl Authorized {
    pub fn actor(&self) -> &Principal {
        &self.actor
    }

    /// The built-in actor of the program's own writes (`seed`, `token issue`, login sessions,
    /// the webhook worker), recorded as `system:<task>`.
    pub fn system(task: &str) -> Self {
        Authorized {
            actor: Principal {
                token_id: Uuid::nil(),
                subject: format!("system:{task}"),
                sub: format!("system:{task}"),
                name: task.to_string(),
                role: Role::Admin,
                unit_id: None,
                request_id: None,
                idempotency: None,
            },
        }
    }
}

/// Which subjects a role may write at all (admin: every one).
fn role_may_write(role: Role, subject: Subject) -> bool {
    use Subject::*;
    match role {
        Role::Admin => true,
        Role::Editor => matches!(
            subject,
            Event | Training | TrainingOutcome | Tally | MediaReport | CommitteeMember | Webhook
        ),
        Role::Reporter => matches!(subject, TrainingOutcome | Tally | MediaReport),
        Role::Viewer => matches!(subject, Webhook),
    }
}

/// May `principal` write `subject` rows owned by `owners`?
///
/// `owners` lists the owning unit of every row the write touches: the row as it is (update,
/// delete) and as it will be (create, update). Non-admins must own all of them, so they can
/// neither touch another unit's rows nor move a row to another unit.
pub fn authorize(
    principal: &Principal,
    subject: Subject,
    owners: &[Option<Uuid>],
) -> AppResult<Authorized> {
    if !role_may_write(principal.role, subject) {
        return Err(AppError::forbidden(format!(
            "the {} role may not write {}",
            principal.role,
            subject.noun()
        )));
    }
    if principal.role != Role::Admin {
        let own = principal.unit_id;
        if own.is_none() || owners.iter().any(|owner| *owner != own) {
            return Err(AppError::forbidden(format!(
                "{} of other units are not yours to write",
                subject.noun()
            )));
        }
    }
    Ok(Authorized {
        actor: principal.clone(),
    })
}

/// Reads that only the committee office may make.
pub fn require_admin(principal: &Principal) -> AppResult<()> {
    if principal.is_admin() {
        Ok(())
    } else {
        Err(AppError::forbidden("only the admin role may do this"))
    }
}

/// Admins have no unit; every other role belongs to exactly one existing unit.
pub async fn check_role_unit(
    conn: &mut diesel_async::AsyncPgConnection,
    role: Role,
    unit_id: Option<Uuid>,
    checks: &mut crate::validate::Checks,
) -> AppResult<()> {
    match (role, unit_id) {
        (Role::Admin, Some(_)) => checks.fail("unit_id", "must be null for the admin role"),
        (Role::Admin, None) => {}
        (_, None) => checks.fail("unit_id", "is required for this role"),
        (_, Some(unit)) => {
            crate::validate::check_units_exist(conn, &[("unit_id".into(), unit)], checks).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, unit: Option<Uuid>) -> Principal {
        Principal {
            token_id: Uuid::nil(),
            subject: "test".into(),
            sub: "test".into(),
            name: "test".into(),
            role,
            unit_id: unit,
            request_id: None,
            idempotency: None,
        }
    }

    #[test]
    fn units_own_their_rows() {
        let a = Some(Uuid::now_v7());
        let b = Some(Uuid::now_v7());
        let editor = principal(Role::Editor, a);
        assert!(authorize(&editor, Subject::Event, &[a]).is_ok());
        assert!(authorize(&editor, Subject::Event, &[b]).is_err());
        assert!(
            authorize(&editor, Subject::Event, &[a, b]).is_err(),
            "moving a row away"
        );
        assert!(authorize(&editor, Subject::Event, &[None]).is_err());
        assert!(authorize(&editor, Subject::Unit, &[a]).is_err());
        let reporter = principal(Role::Reporter, a);
        assert!(authorize(&reporter, Subject::Tally, &[a]).is_ok());
        assert!(authorize(&reporter, Subject::TrainingOutcome, &[a]).is_ok());
        assert!(authorize(&reporter, Subject::Training, &[a]).is_err());
        assert!(authorize(&reporter, Subject::Event, &[a]).is_err());
        let viewer = principal(Role::Viewer, a);
        assert!(authorize(&viewer, Subject::Tally, &[a]).is_err());
        let admin = principal(Role::Admin, None);
        assert!(authorize(&admin, Subject::Unit, &[b]).is_ok());
    }
}
