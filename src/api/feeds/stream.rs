//! Rendering in a task of its own, and the pieces it hands on: collected whole when the feed
//! is small, streamed to the client when it is not.

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::web::Bytes;
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::cache::{FeedCache, Validators};
use super::{Feed, FeedFilter, Format, PAGE_ROWS, load_page, load_tombstones, ok};
use crate::api::campaigns;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Output is handed on in pieces of about this size...
const PIECE_BYTES: usize = 64 << 10;
/// ...and this many may wait for a slow client: what one download holds, besides a page.
const PIECES_QUEUED: usize = 8;
/// Bodies up to this size are kept in memory and sent whole; larger ones are streamed.
pub(super) const MAX_CACHED_BODY: usize = 1 << 20;
/// A client that takes nothing for this long loses its download, which frees the connection
/// and the snapshot its rendering holds.
const STALLED_CLIENT: Duration = Duration::from_secs(60);

/// What a rendering task sends: its validators first, then the feed, then `End` (a channel
/// that closes without it was cut short).
pub(super) enum Piece {
    Validators(Validators),
    Bytes(Bytes),
    End,
}

pub(super) type Pieces = mpsc::Receiver<AppResult<Piece>>;

/// Starts rendering the feed in a task of its own, once a turn and a connection are free;
/// returns the validators of its snapshot and the rest of the feed to come.
pub(super) async fn start(
    state: &AppState,
    cache: &FeedCache,
    campaign: Uuid,
    filter: &FeedFilter,
    format: Format,
) -> AppResult<(Validators, Pieces)> {
    let turn = cache.turn().await?;
    let mut conn = state.conn().await?;
    let (tx, mut rx) = mpsc::channel(PIECES_QUEUED);
    let filter = filter.clone();
    actix_web::rt::spawn(async move {
        let _turn = turn;
        let rendered = conn
            .build_transaction()
            .read_only()
            .repeatable_read()
            .run::<_, AppError, _>(async |conn| render(conn, campaign, &filter, format, &tx).await)
            .await;
        if let Err(e) = rendered {
            // Nobody to tell when the client is gone or stalled (the channel is closed or full).
            let _ = tx.try_send(Err(e));
        }
    });
    match rx.recv().await {
        Some(Ok(Piece::Validators(validators))) => Ok((validators, rx)),
        Some(Err(e)) => Err(e),
        _ => Err(AppError::internal(
            "the feed's rendering stopped before it began",
        )),
    }
}

/// The whole rendering, in the caller's transaction.
async fn render(
    conn: &mut AsyncPgConnection,
    campaign: Uuid,
    filter: &FeedFilter,
    format: Format,
    tx: &mpsc::Sender<AppResult<Piece>>,
) -> AppResult<()> {
    // The campaign as this snapshot has it: the one remembered by slug may be older than the
    // stamp the result is kept under, and its name would then outlive a rename.
    let campaign = Arc::new(campaigns::find(conn, &campaign.to_string()).await?);
    let validators = Validators::compute(conn, &campaign, filter, format).await?;
    let now = validators.now;
    let feed = Feed {
        tz: campaign.timezone.parse().unwrap_or(Tz::UTC),
        updated: validators.updated,
        campaign,
        filter: filter.clone(),
        format,
    };
    send(tx, Piece::Validators(validators)).await?;
    let mut out = Vec::with_capacity(PIECE_BYTES * 2);
    feed.head(&mut out)?;
    let mut after = None;
    let mut first = true;
    loop {
        let page = load_page(conn, &feed, after).await?;
        for e in &page {
            feed.item(e, first, &mut out)?;
            first = false;
            if out.len() >= PIECE_BYTES {
                let piece = std::mem::replace(&mut out, Vec::with_capacity(PIECE_BYTES * 2));
                send(tx, Piece::Bytes(piece.into())).await?;
            }
        }
        match page.last() {
            Some(last) if page.len() as i64 == PAGE_ROWS => after = Some((last.starts_at, last.id)),
            _ => break,
        }
    }
    let tombstones = match format {
        Format::Atom => load_tombstones(conn, feed.campaign.id, filter, now).await?,
        _ => Vec::new(),
    };
    feed.tail(&tombstones, &mut out);
    send(tx, Piece::Bytes(out.into())).await?;
    send(tx, Piece::End).await
}

async fn send(tx: &mpsc::Sender<AppResult<Piece>>, piece: Piece) -> AppResult<()> {
    match tokio::time::timeout(STALLED_CLIENT, tx.send(Ok(piece))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(AppError::internal("the feed's client is gone")),
        Err(_) => Err(AppError::internal("the feed's client stalled")),
    }
}

/// A feed read up to [`MAX_CACHED_BODY`]: all of it, or its beginning and the rest to come.
pub(super) enum Collected {
    Whole(Bytes),
    Partial(Vec<Bytes>, Pieces),
}

pub(super) async fn collect(mut pieces: Pieces) -> AppResult<Collected> {
    let mut parts = Vec::new();
    let mut len = 0;
    loop {
        match pieces.recv().await {
            Some(Ok(Piece::Bytes(bytes))) => {
                len += bytes.len();
                parts.push(bytes);
                if len > MAX_CACHED_BODY {
                    return Ok(Collected::Partial(parts, pieces));
                }
            }
            Some(Ok(Piece::End)) => return Ok(Collected::Whole(parts.concat().into())),
            Some(Err(e)) => return Err(e),
            Some(Ok(Piece::Validators(_))) | None => {
                return Err(AppError::internal("the feed's rendering was cut short"));
            }
        }
    }
}

impl Collected {
    pub(super) fn respond(self, validators: &Validators, format: Format) -> HttpResponse {
        match self {
            Collected::Whole(body) => ok(validators, format).body(body),
            Collected::Partial(parts, pieces) => {
                let rest = futures_util::stream::unfold(Some(pieces), |pieces| async move {
                    let mut pieces = pieces?;
                    let error = match pieces.recv().await {
                        Some(Ok(Piece::Bytes(bytes))) => return Some((Ok(bytes), Some(pieces))),
                        Some(Ok(Piece::End)) => return None,
                        Some(Err(e)) => e,
                        Some(Ok(Piece::Validators(_))) | None => {
                            AppError::internal("the feed's rendering was cut short")
                        }
                    };
                    // The status line is long gone: ending the body without its last chunk is
                    // how the client learns that the feed is incomplete.
                    log::warn!("feed stream failed: {error}");
                    Some((Err(actix_web::Error::from(error)), None))
                });
                let body = futures_util::stream::iter(parts.into_iter().map(Ok)).chain(rest);
                ok(validators, format).streaming(body)
            }
        }
    }
}
