//! QR code PNG data URLs for `qrcode.updated`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use qrcodegen::{QrCode, QrCodeEcc};

/// Pixels per QR module in the PNG.
pub const SCALE: usize = 4;
/// Quiet zone around the code, in modules.
pub const BORDER: usize = 4;

/// The QR code for `text` (error correction level M, like WhatsApp Web's).
pub fn encode(text: &str) -> Result<QrCode, String> {
    QrCode::encode_text(text, QrCodeEcc::Medium).map_err(|e| format!("QR encoding failed: {e}"))
}

/// An 8-bit grayscale PNG of `text`'s QR code (dark = 0, light = 255), [`SCALE`] pixels per module
/// and a [`BORDER`]-module quiet zone.
pub fn png(text: &str) -> Result<Vec<u8>, String> {
    let qr = encode(text)?;
    let modules = usize::try_from(qr.size()).map_err(|_| "bad QR size".to_string())?;
    let side = (modules + 2 * BORDER) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for y in 0..modules {
        for x in 0..modules {
            // coordinates are < 177, so the casts cannot truncate
            if qr.get_module(x as i32, y as i32) {
                for dy in 0..SCALE {
                    let row = ((y + BORDER) * SCALE + dy) * side;
                    let start = row + (x + BORDER) * SCALE;
                    pixels[start..start + SCALE].fill(0);
                }
            }
        }
    }
    let side32 = u32::try_from(side).map_err(|_| "image too large".to_string())?;
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, side32, side32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| e.to_string())?;
        w.write_image_data(&pixels).map_err(|e| e.to_string())?;
        w.finish().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// `data:image/png;base64,...` of `text`'s QR code.
pub fn png_data_url(text: &str) -> Result<String, String> {
    Ok(format!(
        "data:image/png;base64,{}",
        STANDARD.encode(png(text)?)
    ))
}
